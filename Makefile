# backprop_kit — every target sets up .venv itself, so a fresh clone needs only Python 3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
# Tests run with the environment a learner has: no OPENBLAS_NUM_THREADS here. The kit itself
# runs its small matrix products on one BLAS thread (backprop_kit/_threads.py).
# Extra arguments for JupyterLab, e.g. make lab LAB_ARGS="--no-browser --port=8890"
LAB_ARGS ?=

.PHONY: lab test test-unit test-lessons test-portable lessons demo clean test-browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# binder/requirements.txt's pins, as pip constraints: everyone runs the versions the lessons were tested with
PINS := $(VENV)/pins.txt

$(PINS): binder/requirements.txt $(BIN)/python
	grep -v '^-e' binder/requirements.txt > $(PINS)

$(STAMP): $(BIN)/python pyproject.toml $(PINS)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]" -c $(PINS)
	touch $(STAMP)

lab: $(STAMP)  ## open JupyterLab on the lessons (as root too: backprop-kit lab adds --allow-root)
	$(BIN)/backprop-kit lab --notebooks notebooks $(LAB_ARGS)

test: test-unit test-lessons  ## everything but the browser tests

test-unit: $(STAMP)  ## unit, property and widget tests
	$(BIN)/python -m pytest -m "not browser" tests

test-lessons: $(STAMP)  ## nbval: every lesson's outputs still match, and the Voila app runs
	$(BIN)/python -m pytest -p no:randomly $(NBVAL) notebooks/ apps/

test-portable: $(STAMP)  ## nbval on every lesson as other CPUs, BLAS kernels and thread counts would run it
	$(BIN)/python tests/portable_lessons.py

lessons: $(STAMP)  ## re-execute every lesson in place (for maintainers, after a change)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

BROWSER_STAMP := $(VENV)/.installed-browser
CHROMIUM      := /usr/bin/chromium

$(BROWSER_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,browser]" -c $(PINS)
	touch $(BROWSER_STAMP)

$(CHROMIUM):
	@if [ "$$(id -u)" = "0" ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "Chromium is missing: install Debian's package as root (apt-get install chromium)," \
		     "so that $(CHROMIUM) exists; the browser tests do not download a browser."; \
		exit 1; \
	fi

test-browser: $(BROWSER_STAMP) $(CHROMIUM)  ## JupyterLab + Voila in headless Chromium (screenshots in results/browser/)
	mkdir -p results/browser
	BK_BROWSER_REQUIRED=1 $(BIN)/python -m pytest -p no:randomly -m browser tests/browser

demo: $(BROWSER_STAMP)  ## the playground alone as a Voila app (the Binder "Voila" badge, locally)
	$(BIN)/voila apps/playground.ipynb
