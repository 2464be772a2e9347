# backprop_kit — every target sets up .venv itself, so a fresh clone needs only Python 3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg
# Tests use one BLAS thread: the kit's matrices are small, and on a busy 2-core machine
# OpenBLAS's threads made a 10k-element dot product cost milliseconds instead of microseconds.
TEST_ENV := OPENBLAS_NUM_THREADS=1

.PHONY: lab test test-unit test-lessons lessons demo clean test-browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

lab: $(STAMP)  ## open JupyterLab on the lessons
	$(BIN)/jupyter lab notebooks/

test: test-unit test-lessons  ## everything but the browser tests

test-unit: $(STAMP)  ## unit, property and widget tests
	$(TEST_ENV) $(BIN)/python -m pytest -m "not browser" tests

test-lessons: $(STAMP)  ## nbval: every lesson's outputs still match
	@if ls notebooks/*.ipynb >/dev/null 2>&1; then \
		$(TEST_ENV) $(BIN)/python -m pytest -p no:randomly $(NBVAL) notebooks/; \
	else echo "no lessons yet"; fi

lessons: $(STAMP)  ## re-execute every lesson in place (for maintainers, after a change)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

BROWSER_STAMP := $(VENV)/.installed-browser
CHROMIUM      := /usr/bin/chromium

$(BROWSER_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test,browser]"
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
	BK_BROWSER_REQUIRED=1 $(TEST_ENV) $(BIN)/python -m pytest -p no:randomly -m browser tests/browser

demo: $(BROWSER_STAMP)  ## the playground lesson as a Voila app (the Binder "Voila" badge, locally)
	$(BIN)/voila notebooks/10_playground.ipynb
