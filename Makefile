# The course's entry points. The first two are the README's two commands.
#   make lab        set up (if needed) and open the course in JupyterLab
#   make test       set up (if needed) and run every test: ruff, unit/property/doctests, nbval, the browser tests
#   make test-fast  the inner loop: ruff, unit/property/doctests (no notebooks, no browser, no nbgrader, no test
#                   marked slow)
#   make notebooks  re-execute every notebook in a fresh kernel and store its outputs
#   make site       the course as a static site that opens from disk, offline, in build/site/
#   make slides     one reveal.js deck per lesson, offline, in build/slides/
#   make handouts   one A4 PDF per lesson (chromium prints the site), in build/handouts/;
#                   SOLUTIONS=1: with the worked solutions (NN-name-solutions.pdf, answer keys)
#   make assignments  every lesson's exercises as an nbgrader assignment (for lecturers), in build/assignments/;
#                   installs nbgrader (requirements-assignments.lock) into the same environment, its extensions off
#   make assignments-check  autograde every assignment: the source versions score full marks, the untouched
#                   student versions zero
#   make bench      benchmark one optimizer step against torch.optim (not part of the tests)
#   make lock       re-resolve requirements.lock (and requirements-assignments.lock) from pyproject.toml (maintainers)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

# Python's bytecode cache is written (__pycache__, ignored by git) by what make starts, even where the environment
# turns it off (PYTHONDONTWRITEBYTECODE=1, as on the machine these timings come from; `make test
# PYTHONDONTWRITEBYTECODE=1` still turns it off): without it every process compiles the course's modules again and
# pytest re-rewrites every test module in each worker (collection: 16 s of CPU per worker instead of 8 here), and the
# suite starts some thirty Python processes (workers, kernels, the lab, the site builder).
export PYTHONDONTWRITEBYTECODE :=

STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: lab test test-fast lint notebooks site slides handouts assignments assignments-check bench lock clean

$(STAMP): requirements.lock pyproject.toml Makefile notebooks/_lab/overrides.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed, found " + sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@# --no-compile: each module is compiled when first imported, and cached (see PYTHONDONTWRITEBYTECODE above):
	@# the course imports a fraction of what it installs, and pip compiling all of it took half the setup time. The
	@# cost moves to the first start of the lab and of the tests; a venv no process can write to (shared, read-only)
	@# or a command run outside make with PYTHONDONTWRITEBYTECODE=1 compiles what it imports at every start.
	$(BIN)/python -m pip install --quiet --no-compile -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null  # "Python 3 (ipykernel)", as the notebooks say
	@# The lab's settings for this course (no news or update checks over the network)
	install -D -m 644 notebooks/_lab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $(STAMP)

# Jupyter refuses to start as root without --allow-root (containers often run as root). The notebooks are
# trusted (their outputs are ours), the lab's default page is 00 however it is reached (the printed URL too),
# and kernels get CurveZMQ keys (no "running over TCP without encryption" at every start). LAB_ARGS adds more
# (the browser tests: --no-browser, a port, a token).
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=

lab: $(STAMP)
	@$(BIN)/jupyter trust notebooks/[0-9][0-9]-*.ipynb >/dev/null
	$(BIN)/jupyter lab $(ROOT_ARGS) --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/notebooks/00-start-here.ipynb \
		--MappingKernelManager.transport_encryption=auto $(LAB_ARGS)

# One worker per core; --dist loadfile keeps each notebook in one worker (nbval runs its cells in one
# kernel, in order).
PYTEST_ARGS ?= -n auto --dist loadfile

# The site and slides tests need the web assets: installed here where npm is; without npm they skip (saying so),
# as the browser tests do without chromium.
NODE_ASSETS = $(if $(shell command -v npm),$(NODE_STAMP))

test: $(STAMP) $(NODE_ASSETS) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# tests/ and lessonlib/ given explicitly: nbval collects only notebooks/ (never named here), so it runs nothing
test-fast: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS) -m "not slow" tests lessonlib --ignore=tests/browser --ignore=tests/test_assignments.py

lint: $(STAMP)
	$(BIN)/ruff check lessonlib tests notebooks benchmarks
	$(BIN)/ruff format --check lessonlib tests notebooks benchmarks

notebooks: $(STAMP)
	$(BIN)/python notebooks/_build.py $(NB)

# MathJax and reveal.js come from npm (package.json, pinned by package-lock.json), never from a CDN.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

site: $(STAMP) $(NODE_STAMP)
	$(BIN)/python notebooks/_site site build/site

slides: $(STAMP) $(NODE_STAMP)
	$(BIN)/python notebooks/_site slides build/slides

# The handouts print the site `make site` built (once per make run: `make site slides handouts` builds it once).
handouts: site
	$(BIN)/python notebooks/_site handouts build/handouts --site build/site $(if $(SOLUTIONS),--solutions)

# nbgrader for lecturers, pinned in its own lock (the learner's install does not pay for it). It brings
# JupyterLab and server extensions (its formgrader and assignment panels, and Notebook 7's, which it depends on):
# they are switched off in this environment so that `make lab` shows the course as before. A lecturer who wants
# formgrader in the lab turns them on again (README, "For lecturers").
ASSIGN_STAMP := $(VENV)/.assignments-installed
NBGRADER_SERVER_EXTENSIONS := nbgrader.server_extensions.formgrader nbgrader.server_extensions.validate_assignment \
	nbgrader.server_extensions.assignment_list nbgrader.server_extensions.course_list notebook
NBGRADER_LAB_EXTENSIONS := @jupyter/nbgrader @jupyter-notebook/lab-extension

$(ASSIGN_STAMP): $(STAMP) requirements-assignments.lock
	@$(BIN)/python -c 'import sys; assert sys.version_info >= (3, 11), "nbgrader 0.9.6 needs Python 3.11+, found " + sys.version.split()[0]'
	$(BIN)/python -m pip install --quiet --no-compile -c requirements.lock -r requirements-assignments.lock
	@# the two side by side (each starts Jupyter's command line: 5-6 s of a core), failing if either fails
	$(BIN)/jupyter server extension disable --sys-prefix $(NBGRADER_SERVER_EXTENSIONS) >/dev/null 2>&1 & \
	$(BIN)/jupyter labextension disable --level=sys_prefix $(NBGRADER_LAB_EXTENSIONS) >/dev/null 2>&1; \
	lab=$$?; wait $$! && test $$lab -eq 0
	@touch $@

ASSIGNMENTS ?= build/assignments

assignments: $(ASSIGN_STAMP)
	$(BIN)/python notebooks/_assignments.py $(ASSIGNMENTS)

assignments-check: assignments
	$(BIN)/python notebooks/_assignments.py $(ASSIGNMENTS) --check

bench: $(STAMP)
	$(BIN)/python benchmarks/adam_step.py

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet uv
	cp requirements.lock requirements.lock.tmp   # the current pins are uv's preferences
	$(BIN)/uv pip compile --universal --python-version 3.10 --no-header --no-annotate --extra course --extra test \
		pyproject.toml -o requirements.lock.tmp
	@# PyPI's Linux build of torch is the CUDA one and names CUDA packages (several GB). They are left out:
	@# where a CPU wheel of torch 2.13.0 is on pip's path (this course's machines and CI), nothing needs them,
	@# and elsewhere pip installs the ones that torch build asks for.
	{ echo "# Pinned by 'make lock' (uv pip compile --universal) for Python 3.10+, minus the CUDA packages"; \
	  echo "# that only PyPI's GPU build of torch needs (see the Makefile)."; \
	  grep -vE '^(nvidia-|cuda-|triton==)' requirements.lock.tmp; } > requirements.lock
	rm requirements.lock.tmp
	@# The lecturers' group (make assignments): resolved with everything above, and what it adds to the lock kept
	@# in a file of its own (make lab installs requirements.lock only).
	cp requirements.lock requirements.lock.tmp
	$(BIN)/uv pip compile --universal --python-version 3.10 --no-header --no-annotate --extra course --extra test \
		--group assignments pyproject.toml -o requirements.lock.tmp
	{ echo "# Pinned by 'make lock': what the assignments group (pyproject.toml: nbgrader, for lecturers) adds to"; \
	  echo "# requirements.lock, resolved together with it. \`make assignments\` installs these; \`make lab\` does not."; \
	  grep -vE '^(nvidia-|cuda-|triton==)' requirements.lock.tmp | grep -vxF -f requirements.lock; } > requirements-assignments.lock
	rm requirements.lock.tmp

clean:
	rm -rf $(VENV) build node_modules *.egg-info
