# backprop_kit — every target sets up .venv itself, so a fresh clone needs only Python 3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-unit test-lessons demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)  ## open JupyterLab on the lessons
	$(BIN)/jupyter lab notebooks/

test: $(STAMP)  ## unit, widget and lesson (nbval) tests
	$(BIN)/python -m pytest -m "not browser" tests

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
