# TF Grimoire. One command sets a learner up on a fresh clone:
#   make feedback   create .venv if missing, install, run the visible checks (and hidden ones
#                   of every topic whose visible checks pass)
#   make watch      the same for the topic you are editing, on every save
#   make test       the whole kit checks itself (instructors, CI)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOPIC  ?=

.PHONY: feedback watch reset test generate check-generated grade lab formgrader bench bench-cohort clean

# Targets that need a topic say so before they do anything (make exits with status 2).
ifneq ($(filter reset,$(MAKECMDGOALS)),)
ifeq ($(TOPIC),)
$(error make reset needs a topic: make reset TOPIC=01_parameter_counting (your version is saved beside the stub))
endif
endif

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing TF Grimoire into $(VENV) (the first time takes a minute or two)..."
	@# uv installs the same packages as pip, about three times faster (TensorFlow's wheels are
	@# large); pip does it alone where uv cannot be installed.
	@($(BIN)/python -m pip install --quiet --disable-pip-version-check uv && \
	  $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e .) || \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $(STAMP)

## Learners: run the visible tests of every topic (or TOPIC=02_conv_shapes), with hints.
## A topic whose visible checks all pass is graded by the hidden checks too (ARGS=--no-hidden skips).
feedback: $(STAMP)
	@$(BIN)/python -m pytest exercises/$(TOPIC) $(ARGS) || true

## Learners: re-run the visible checks of the topic you edit on every save (Ctrl-C stops).
watch: $(STAMP)
	@$(BIN)/python -m grimoire.watch $(TOPIC) $(ARGS)

## Learners: put a topic's stub (and notebook) back; your version is saved beside it.
reset: $(STAMP)
	@$(BIN)/python -m grimoire.generate --reset $(TOPIC)

## The kit's self-checks: solutions earn all, stubs nothing, every check can fail, files fresh.
test: $(STAMP)
	$(BIN)/python -m pytest tests/ -n auto $(ARGS)

## Regenerate exercises/, source/ and release/ from solutions/ (commit the result). Files a
## learner changed are left alone and named; FORCE=1 overwrites them, saving a copy beside each.
generate: $(STAMP)
	$(BIN)/python -m grimoire.generate $(if $(FORCE),--force)

check-generated: $(STAMP)
	$(BIN)/python -m grimoire.generate --check

## Grade a folder laid out like exercises/ with the hidden checks: make grade DIR=exercises
grade: $(STAMP)
	$(BIN)/autograder grade $(or $(DIR),exercises) --json grade.json

## Open the student notebooks in JupyterLab.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=release

## Instructors: JupyterLab at the course root; nbgrader's Formgrader is in the Nbgrader menu.
formgrader: $(STAMP)
	$(BIN)/jupyter lab

## How fast is the learner's loop compared with a bare TensorFlow import?
bench: $(STAMP)
	$(BIN)/python benchmarks/student_loop.py

## grade-cohort against nbgrader autograde on a synthetic cohort (several minutes).
bench-cohort: $(STAMP)
	$(BIN)/python benchmarks/cohort.py

clean:
	rm -rf $(VENV) *.egg-info grade.json grade_pictures
