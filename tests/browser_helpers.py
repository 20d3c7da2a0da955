"""A real JupyterLab for the browser test: started on 127.0.0.1, always torn down.

Nothing here downloads anything: the browser is the system's Chromium (Debian's ``chromium``
package, which ``.ci/run`` installs), driven by Python ``playwright`` through
``executable_path``. ``playwright install`` is never needed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

JUPYTER = str(Path(sys.executable).with_name("jupyter"))

# JupyterLab settings for the test: every cell stays in the page (no virtual scrolling), no
# news pop-up, no autosave racing the test.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def find_chromium() -> str | None:
    """The system Chromium: ``$GRIMOIRE_CHROMIUM``, else ``chromium`` on PATH, else None."""
    chosen = os.environ.get("GRIMOIRE_CHROMIUM")
    if chosen:
        return chosen if os.path.isfile(chosen) and os.access(chosen, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Lab:
    url: str  # http://127.0.0.1:PORT
    token: str
    process: subprocess.Popen
    log: Path

    def notebook_url(self, relative: str) -> str:
        return f"{self.url}/lab/tree/{relative}?token={self.token}"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


def _api(lab: Lab, path: str, method: str = "GET", timeout: float = 5):
    request = urllib.request.Request(
        f"{lab.url}/api/{path}", method=method, data=b"" if method == "POST" else None,
        headers={"Authorization": f"token {lab.token}"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _ours(marker: str) -> list[psutil.Process]:
    """Every live process whose command line names ``marker`` (our private runtime folder)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in process.info["cmdline"] or ()):
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


@contextmanager
def jupyter_lab(root_dir: Path, state_dir: Path, start_timeout: float = 90):
    """Run ``jupyter lab`` on a free port of 127.0.0.1 with a token; yield a :class:`Lab`.

    ``state_dir`` holds every file JupyterLab and its kernels write (config, runtime,
    settings, workspaces, log), so the user's own Jupyter set-up plays no part. On exit the
    server is asked to shut down (its kernels with it), then terminated, then killed; every
    process started from ``state_dir`` (kernels included) is gone when this returns.
    """
    token = secrets.token_hex(16)
    port = free_port()
    runtime = state_dir / "runtime"
    settings = state_dir / "settings"
    for folder in ("runtime", "config", "data", "settings", "workspaces", "ipython"):
        (state_dir / folder).mkdir(parents=True, exist_ok=True)
    for name, values in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    env = {
        **os.environ,
        # Kernels and helpers are found by name: this environment's bin/ first.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "JUPYTER_CONFIG_DIR": str(state_dir / "config"),
        "IPYTHONDIR": str(state_dir / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = state_dir / "jupyter-lab.log"
    command = [
        JUPYTER, "lab", "--no-browser", "--allow-root",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
        f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={state_dir / 'workspaces'}",
        "--LabApp.news_url=", "--ServerApp.terminals_enabled=False",
    ]
    with open(log, "wb") as sink:
        process = subprocess.Popen(command, cwd=root_dir, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    lab = Lab(url=f"http://127.0.0.1:{port}", token=token, process=process, log=log)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {process.returncode} before it served:\n{lab.log_tail()}")
            try:
                _api(lab, "status", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"jupyter lab did not answer within {start_timeout} s:\n{lab.log_tail()}")
                time.sleep(0.2)
        yield lab
    finally:
        _stop(lab, marker=str(state_dir))


def _stop(lab: Lab, marker: str) -> None:
    process = lab.process
    if process.poll() is None:
        try:
            _api(lab, "shutdown", method="POST", timeout=5)  # stops its kernels, then itself
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    # Kernels run in sessions of their own: find them by the runtime folder they were given.
    leftovers = _ours(marker)
    for leftover in leftovers:
        try:
            leftover.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(leftovers, timeout=5)
    for leftover in alive:
        try:
            leftover.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)


def leftover_processes(state_dir: Path) -> list[str]:
    """Command lines of processes still running from ``state_dir`` (should be none)."""
    result = []
    for process in _ours(str(state_dir)):
        try:
            result.append(" ".join(process.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return result
