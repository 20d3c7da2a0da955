"""Printing a grade report for people (a rich table) and writing it for machines (JSON)."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def write_json(report: dict, path: Path) -> None:
    Path(path).write_text(json.dumps(report, indent=2) + "\n")


def print_report(report: dict, console: Console | None = None, details: bool = True) -> None:
    console = console or Console()
    table = Table(title=f"TF Grimoire grade (seed {report.get('seed')})", show_lines=False,
                  expand=True)
    table.add_column("topic / check", no_wrap=True, ratio=2)
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("why it failed", overflow="fold", ratio=3)
    for topic in report["topics"].values():
        table.add_row(f"[bold]{topic['topic']}[/bold]",
                      f"[bold]{topic['score']}/{topic['max_score']}[/bold]", "", end_section=not details)
        if not details:
            continue
        for index, entry in enumerate(topic["checks"]):
            mark = "[green]✓[/green]" if entry["passed"] else "[red]✗[/red]"
            table.add_row(f"  {mark} {entry['name']}", f"{entry['points']}/{entry['max_points']}",
                          "" if entry["passed"] else escape(entry["message"]),
                          end_section=index == len(topic["checks"]) - 1)
    console.print(table)
    console.print(f"[bold]Total: {report['score']}/{report['max_score']}[/bold]")
    for fault in report.get("grader_faults", []):
        console.print(f"[yellow]grader fault (please report): {escape(fault)}[/yellow]")
