# The commands of the README: `make demo`, `make test`, `make rehearsal` and `make test-slurm`.
# Each one first builds the project's virtual environment (.venv) if it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Debian packages the tests and the demo read: WordNet 3.0 (ImageNet's class hierarchy),
# Fashion-MNIST (the demo's real images) and Chromium (the report's browser test).
APT_PACKAGES := wordnet-base dataset-fashion-mnist chromium
APT_FILES := /usr/share/wordnet/data.noun /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \
  /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The rehearsal's stand-in data go where config/rehearsal.yaml reads them (an ignored folder).
REHEARSAL_CONFIG := config/rehearsal.yaml
REHEARSAL_DATA := $(shell sed -n 's/^data_root: *//p' $(REHEARSAL_CONFIG))

.PHONY: demo test rehearsal test-slurm lint install system-deps

# After installing, compile the numba kernels of `l2h fit` into their cache (l2h/__pycache__,
# shared by every process that imports this checkout's l2h, workflow jobs included): seconds
# once, then only when the kernels' source changes; without it the first large fit compiles.
install: system-deps $(VENV)/.installed
	$(BIN)/l2h precompile

system-deps:
	@for f in $(APT_FILES); do test -f $$f || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $(APT_PACKAGES)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    $(APT_PACKAGES); \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/snakemake --cores 2 --configfile config/demo.yaml

test: install
	$(BIN)/python -m pytest -q

# Every job of the paper's study (config.yaml), on stand-in data and stand-in backbones: offline,
# CPU, minutes. The numbers mean nothing; see the README, "Rehearsal".
rehearsal: install
	$(BIN)/python -m l2h.rehearsal $(REHEARSAL_DATA)
	$(BIN)/snakemake --cores 2 --configfile $(REHEARSAL_CONFIG)
	$(BIN)/snakemake --cores 2 --configfile $(REHEARSAL_CONFIG) \
	  --report results/rehearsal/report.html

# The demo on a real one-node SLURM cluster (Debian slurm-wlm and munge, installed when missing),
# typed as `snakemake --profile slurm`, against a local run: see tests/slurm/test_slurm.sh.
test-slurm: install
	$(SUDO) env VENV_BIN=$(abspath $(BIN)) bash tests/slurm/test_slurm.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint --configfile config/demo.yaml
