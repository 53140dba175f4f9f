# The one task runner. `make book` builds the executed book; `make test` checks everything.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# CPU wheel by default (it lies on disk on the project's machines). For CUDA, e.g.:
#   make TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126" book
TORCH_SPEC ?= torch==2.13.0
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
PM_OUT := build/papermill
# Papermill runs every chapter with CI-sized parameters; nbval runs the committed ones
# with GCNREC_SMALL=1 (the same small settings) and compares the `# NBVAL_CHECK_OUTPUT` cells.

.PHONY: install data book test lint typecheck unit notebooks nbval book-render gpu-notebooks clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[book,dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gcnrec)" > /dev/null
	touch $@

data: install
	$(PY) -m gcnrec_tutorial fetch

book: data
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

lint: install
	$(VENV)/bin/ruff check gcnrec_tutorial tests benchmarks
	$(VENV)/bin/ruff format --check gcnrec_tutorial tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest tests -q --ignore=tests/notebooks

notebooks: data
	mkdir -p $(PM_OUT)
	set -e; for nb in $(NOTEBOOKS); do \
	  echo "papermill $$nb"; \
	  $(VENV)/bin/papermill --no-progress-bar -k python3 -p small True $$nb $(PM_OUT)/$$(basename $$nb); \
	done
	$(PY) -m pytest tests/notebooks -q

nbval: data
	GCNREC_SMALL=1 $(PY) -m pytest --nbval-lax --nbval-current-env \
	  -o filterwarnings= $(NOTEBOOKS) -q

book-render: install
	mkdir -p build
	sed 's/^\(\s*execute_notebooks:\).*/\1 "off"/' _config.yml > build/_config_render.yml
	$(VENV)/bin/jupyter-book build . --config build/_config_render.yml --all --warningiserror --keep-going

test: lint typecheck unit notebooks nbval book-render

# On a CUDA machine (GCNREC_DEVICE=cuda): every chapter with its full parameters, then nbval.
gpu-notebooks: data
	mkdir -p $(PM_OUT)
	set -e; for nb in $(NOTEBOOKS); do \
	  $(VENV)/bin/papermill --no-progress-bar -k python3 $$nb $(PM_OUT)/$$(basename $$nb); \
	done
	$(PY) -m pytest tests/notebooks -q
	$(PY) -m pytest --nbval-lax --nbval-current-env -o filterwarnings= $(NOTEBOOKS) -q

clean:
	rm -rf _build build
