# TF Grimoire. Two commands set everything up on a fresh clone:
#   make feedback   learners: create .venv if missing, install, run the visible tests
#   make test       the whole kit checks itself (what CI runs)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TOPIC  ?=

.PHONY: feedback test generate check-generated grade lab formgrader bench bench-cohort clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing TF Grimoire into $(VENV) (the first time takes a minute or two)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@touch $(STAMP)

## Learners: run the visible tests of every topic (or TOPIC=02_conv_shapes), with hints.
feedback: $(STAMP)
	@$(BIN)/python -m pytest exercises/$(TOPIC) $(ARGS) || true

## The kit's self-checks: solutions earn all, stubs nothing, every check can fail, files fresh.
test: $(STAMP)
	$(BIN)/python -m pytest tests/ $(ARGS)

## Regenerate exercises/, source/ and release/ from solutions/ (commit the result).
generate: $(STAMP)
	$(BIN)/python -m grimoire.generate

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
