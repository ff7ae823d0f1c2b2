# The commands of the README quick start: `make demo`, `make test` and `make test-slurm`.
# Each one first builds the project's virtual environment (.venv) if it is missing or stale.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# Debian packages the tests and the demo read: WordNet 3.0 (ImageNet's class hierarchy) and
# Fashion-MNIST (the demo's real images).
APT_PACKAGES := wordnet-base dataset-fashion-mnist
APT_FILES := /usr/share/wordnet/data.noun /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-slurm lint install system-deps

install: system-deps $(VENV)/.installed

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

# The demo on a real one-node SLURM cluster (Debian slurm-wlm and munge, installed when missing),
# typed as `snakemake --profile slurm`, against a local run: see tests/slurm/test_slurm.sh.
test-slurm: install
	$(SUDO) env VENV_BIN=$(abspath $(BIN)) bash tests/slurm/test_slurm.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules
	$(BIN)/snakemake --lint --configfile config/demo.yaml
