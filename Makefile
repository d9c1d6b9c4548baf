# aecrypt — every command sets up its own environment first (a .venv, no conda needed).
#   make book                    default sweep on the embedded NIH X-rays, then the HTML book
#   make book DATA=synthetic     the same on procedural phantoms (needs no X-ray)
#   make book PROFILE=tiny       a quick check of the whole chain
#   make book PROFILE=real DATA=folder:/path/to/xrays
#   make book SEEDS=5             five training seeds (or SEEDS=0,3,7); DATA_SEED=1 another split and key
#   make book ARCHIVE=FILE       the book from a results archive (aecrypt archive export), without a sweep
#   make test                    the test suite (includes building the book at tiny)
#   make book-compression        the book with the bottleneck variant and the classifier at equal rate run too
#   make bench-stages            where a run's time goes, per stage (warm kernels vs. a fresh kernel per run)
#   make bench-verdicts          the claim tests' calibration on this build's noise (about 10 minutes)
#   make bench-convergence HOURS=2   the named combinations trained to the paper's 9,150 steps (resumable)
#   make book-student            the student edition (solutions removed); make assignments; make grade SUBMISSIONS=DIR
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# the link extra's wheels, for the test that installs the built wheel into a fresh venv without a registry
WHEELHOUSE := $(VENV)/wheelhouse
PROFILE ?= default
DATA    ?=
GRID    ?=
WORKERS ?=
SEEDS   ?=
DATA_SEED ?=
SWEEP_ARGS = --profile $(PROFILE) $(if $(DATA),--data $(DATA)) $(if $(GRID),--grid $(GRID)) \
	$(if $(WORKERS),--workers $(WORKERS)) $(if $(SEEDS),--seeds $(SEEDS)) $(if $(DATA_SEED),--data-seed $(DATA_SEED))

# ISA=AVX2 runs everything as on a CPU without AVX-512 (oneDNN for TensorFlow, XLA for JAX), to check
# the time targets on a machine that has it: make book ISA=AVX2
ISA     ?=
ifneq ($(ISA),)
export ONEDNN_MAX_CPU_ISA := $(ISA)
export XLA_FLAGS := --xla_cpu_max_isa=$(ISA)
endif

.PHONY: setup lock test book book-compression book-student assignments grade sweep results lab bench bench-packets bench-stages bench-link bench-memory bench-shaped bench-drills bench-verdicts bench-compression bench-convergence lint clean clean-all

setup: $(STAMP)

# Installs the locked versions (exact, hash-checked); re-installs only when the lock changes, and the
# editable install picks up source edits. pip installs uv (its entry in the lock, requirements-uv.lock), and uv
# installs the rest, compiled to bytecode as pip does (where PYTHONDONTWRITEBYTECODE is set, nothing else would,
# and every process would compile TensorFlow's sources again: 7 s more to import it): faster than pip on 2 cores.
# Where uv cannot reach an index that pip can (pip's own configuration: a mirror, local wheels), pip installs it.
INSTALL = $(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python \
	$(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS)) $(1) \
	|| $(BIN)/python -m pip install -q $(1)
$(STAMP): requirements.lock requirements-link.lock requirements-uv.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "aecrypt needs Python >= 3.11 (found $$($(PYTHON) --version)); set PYTHON=python3.11 or newer"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r requirements-uv.lock
	$(call INSTALL,--require-hashes -r requirements.lock)
	$(call INSTALL,--no-deps -e .)
	$(call INSTALL,--upgrade pip)
	$(BIN)/python -m pip download -q --require-hashes --only-binary :all: -r requirements-link.lock -d $(WHEELHOUSE)
	touch $(STAMP)

# After editing pyproject's dependencies: resolve them again (newest versions that fit), then install.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --all-extras --generate-hashes --universal --python-version 3.11 \
		-o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra link -c requirements.lock --generate-hashes --universal \
		--python-version 3.11 -o requirements-link.lock
	$(BIN)/python -m aecrypt.lockfile

# Tests on every core (TEST_WORKERS=0: in this process); the tests that share a build run in one worker
# (tests/conftest.py), so that each build is made once.
TEST_WORKERS ?= auto
test: setup
	$(BIN)/python -m pytest -q -ra -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=20

sweep: setup
	$(BIN)/aecrypt sweep $(SWEEP_ARGS)

results: setup
	$(BIN)/aecrypt results --profile $(PROFILE)

# The book is built even when some runs (or the cipher audit, or a quick measurement) failed: the pages say so;
# make still exits non-zero then. The quick link, performance and calibration records run only where this machine
# has no current record (`make bench`, `make bench-link`, `make bench-verdicts` replace them with the full ones);
# the link and performance records are kept in this user's machine records, so another clone, profile or data set
# on the same machine and libraries takes them from there. The steps that time nothing (the calibration, the link's
# fault drills: a drill passes or fails, the cipher audit) run beside the compression step, holding a lock shared
# (benchmarks/beside.py) that the compression step takes before it times its latencies (aecrypt.compression.latency.alone): so
# they are timed alone, as the link's streams and the performance record are.
# CLOCK="python benchmarks/clock.py FILE" times each step into FILE (benchmarks/coldbook.py does).
clock = $(if $(CLOCK),$(CLOCK) $(1) --)
beside = $(BIN)/python benchmarks/beside.py $$quiet --
BOOK_STEPS = $(call clock,sweep) $(BIN)/aecrypt sweep $(SWEEP_ARGS); status=$$?; \
	quiet=$$(mktemp); export AECRYPT_QUIET_LOCK=$$quiet; \
	$(call clock,calibration) $(beside) $(BIN)/python benchmarks/verdicts.py --book --profile $(PROFILE) & calibration=$$!; \
	$(call clock,link-drills) $(beside) $(BIN)/python benchmarks/link.py --book --drills --profile $(PROFILE) & drills=$$!; \
	$(call clock,audit) $(beside) $(BIN)/aecrypt audit --profile $(PROFILE) & audit=$$!; \
	$(call clock,compression) $(BIN)/aecrypt compression --profile $(PROFILE) $(COMPRESSION_ARGS) || status=1; \
	wait $$audit || status=1; \
	wait $$calibration || { echo "aecrypt: warning: the quick calibration of the verdicts failed"; status=1; }; \
	wait $$drills || echo "aecrypt: warning: the link's fault drills failed beside the compression step (the link record runs them again)"; \
	unset AECRYPT_QUIET_LOCK; rm -f $$quiet; \
	$(call clock,performance-record) $(BIN)/python benchmarks/run.py --book || \
		{ echo "aecrypt: warning: the quick performance record failed"; status=1; }; \
	$(call clock,link-record) $(BIN)/python benchmarks/link.py --book --profile $(PROFILE) || \
		{ echo "aecrypt: warning: the quick link record failed"; status=1; }

# make book ARCHIVE=FILE: the book from a results archive (aecrypt archive export) instead, without a sweep
ifneq ($(ARCHIVE),)
book: setup
	$(BIN)/aecrypt book --archive $(ARCHIVE)
else
book: setup
	@$(BOOK_STEPS); \
	$(call clock,pages) $(BIN)/aecrypt book --profile $(PROFILE) && exit $$status
endif

# The book with the chapter "Is it compressed?" complete: also the bottleneck grid (grids/bottleneck.yaml) and the
# classifier on JPEG and WebP images at the same rates (about 7 more minutes on 2 cores at the default profile).
book-compression: COMPRESSION_ARGS = --runs
book-compression: book

# The student edition: the same pages with every solution removed from the source, in _build/student/_build/html.
book-student: setup
	@$(BOOK_STEPS); \
	$(BIN)/aecrypt book --profile $(PROFILE) --edition student && exit $$status

# Student notebooks and autograders (otter-grader) in _build/assignments; grade a folder of submissions
# (TIMEOUT=seconds per submission, default 120).
assignments: setup
	$(BIN)/aecrypt assignments

grade: setup
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=DIR (a folder of submitted notebooks)"; exit 2; }
	$(BIN)/aecrypt grade $(SUBMISSIONS) $(if $(TIMEOUT),--timeout $(TIMEOUT))

# JupyterLab on the repository (a page opens as a notebook: Open With → Jupytext Notebook), run by the kernel "Python (aecrypt)",
# which is registered for this user so that any JupyterLab or JupyterHub of theirs can pick the project's venv.
lab: setup
	$(BIN)/python -m ipykernel install --user --name aecrypt --display-name "Python (aecrypt)"
	$(BIN)/jupyter lab --notebook-dir=.

bench: setup
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-packets: setup
	$(BIN)/python benchmarks/packets.py

# Where a run's time goes as the sweep runs it, per stage and depth, warm kernels beside a fresh kernel per run
# (about 8 minutes on 2 cores); STAGES_ARGS="--source DIR" also times another checkout's code.
bench-stages: setup
	$(BIN)/python benchmarks/stages.py $(STAGES_ARGS)

# A cold make book as a new user meets it (a fresh clone of HEAD, no results, no machine records), timed step by
# step into results/coldbook.json (as long as make book takes: 15-25 minutes on 2 cores; COLD_ARGS="--rev REV")
bench-cold: setup
	$(BIN)/python benchmarks/coldbook.py --profile $(PROFILE) $(COLD_ARGS)

# What the default can afford here: the cold make book of each candidate design, predicted from the last cold
# build's runs and steps (make bench-cold first), into results/sizing.json (seconds)
bench-size: setup
	$(BIN)/python benchmarks/sizing.py --profile $(PROFILE)

bench-link: setup
	$(BIN)/python benchmarks/link.py --profile $(PROFILE)

bench-memory: setup
	$(BIN)/python benchmarks/memory.py

# The link through a shaped network namespace (root: sudo make bench-shaped; about 3 minutes)
bench-shaped: setup
	$(BIN)/python benchmarks/shaped.py --profile $(PROFILE)

# One fault drill (the broker restart) 40 times beside busy processes: its failure rate with a 95 % interval
# (about 2 minutes; DRILL_ARGS='-n 100 --drill receiver_restart --broker mosquitto')
bench-drills: setup
	$(BIN)/python benchmarks/drills_under_load.py --profile $(PROFILE) $(DRILL_ARGS)

# The codecs' rate-distortion curve with MS-SSIM at the paper's 200² on real originals (DATA=nih:DIR; default: the
# 50 NIH images in ../shared/data), for the chapter "Is it compressed?" (about a minute)
bench-compression: setup
	$(BIN)/python benchmarks/compression.py $(if $(DATA),--data $(DATA))

# The claim tests' calibration on this build's noise (about 10 minutes on 2 cores): results/<profile>/verdicts.json
bench-verdicts: setup
	$(BIN)/python benchmarks/verdicts.py --profile $(PROFILE)

# The long runs the optimizer claims need (aecrypt.runs.longrun): the paper's named combinations and their rivals
# trained for the paper's step budget at 32², checkpointed about every 500 steps. Hours of CPU on 2 cores: each
# call stops at HOURS of wall time (default 1) and the next one resumes; the book's Results vs. paper page reads
# results/default/convergence.json. CONVERGENCE_ARGS='--only MSLE+Adam+ReLU+2'
HOURS ?= 1
bench-convergence: setup
	$(BIN)/python benchmarks/convergence.py --hours $(HOURS) $(CONVERGENCE_ARGS)

lint: setup
	$(BIN)/ruff check aecrypt tests benchmarks
	$(BIN)/ruff format --check aecrypt tests benchmarks

clean:
	rm -rf results _build .cache .pytest_cache

clean-all: clean
	rm -rf $(VENV)
