# Digit Recognizer: `make help` lists the targets. Variables work with every target, e.g.
#   make run PROFILE=smoke SEED=7 DATA_DIR=data/external/mnist
#   make retune TUNER=bayesian MAX_TRIALS=30 BUDGET_MINUTES=60
# Run settings: each is a field of digit_recognizer/settings.py, the runner's option of the same name in lower
# case (--max-epochs for MAX_EPOCHS) and the notebooks' parameter (max_epochs); passed only when set, else
# settings.py's default (profile full, seed 42, the profile's search settings, deterministic ops, no mixed
# precision, no search in `make run`).
PROFILE  ?=
SEED     ?=
DATA_DIR ?=
# TUNE=1: `make run` runs the search (notebook 03) too; `make tune` always does
TUNE     ?=
# search settings
TUNER          ?=
MAX_EPOCHS     ?=
MAX_TRIALS     ?=
BUDGET_MINUTES ?=
# backend switches (KERAS_BACKEND: tensorflow, jax, torch): DETERMINISTIC=0 for speed on a GPU,
# MIXED_PRECISION=1 for float16 on a GPU
DETERMINISTIC   ?=
MIXED_PRECISION ?=
# make data: Kaggle's files, or SOURCE=mnist
SOURCE ?= kaggle
# distributed tuning
ORACLE_IP   ?= 127.0.0.1
ORACLE_PORT ?= 8000
WORKER_ID   ?=
# benchmark
BENCH_SEEDS ?= 42 43 44
# make gpu-check-files: the Kaggle-sized data copied for benchmarks/gpu_check.sh
GPU_DATA ?= ../shared/data/mnist-full
# test processes: most of the suite's time is notebook kernels starting, a core each; a file stays in one
TEST_WORKERS ?= 2
# Kaggle kernel: the repository Kaggle clones (empty: the git remote origin, as https), the branch, tag or
# commit it checks out (empty: the default branch), and the folder written
REPO_URL          ?=
REPO_REF          ?=
KAGGLE_KERNEL_DIR ?= build/kaggle-kernel
# make kaggle-output: where the kernel's outputs go; make submit SUBMIT_DIR=...: the run root to send
# (default: this checkout's submission.csv and models/); SCORE_WAIT: seconds to wait for the public score
KAGGLE_OUTPUT_DIR ?= build/kaggle-output
SUBMIT_DIR        ?=
SCORE_WAIT        ?=
PYTHON   ?= python3

VENV   := .venv
PY     := $(VENV)/bin/python
# a 1/0 switch as --name/--no-name; anything else stops make with the variable's name
switch  = $(if $(filter 1,$(1)),--$(2),$(if $(filter 0,$(1)),--no-$(2),$(if $(1),$(error $(3)=$(1): use 1 or 0))))
COMMON := $(if $(PROFILE),--profile $(PROFILE)) $(if $(SEED),--seed $(SEED)) \
          $(call switch,$(DETERMINISTIC),deterministic,DETERMINISTIC) \
          $(call switch,$(MIXED_PRECISION),mixed-precision,MIXED_PRECISION)
SEARCH := $(if $(TUNER),--tuner $(TUNER)) $(if $(MAX_EPOCHS),--max-epochs $(MAX_EPOCHS)) \
          $(if $(MAX_TRIALS),--max-trials $(MAX_TRIALS)) $(if $(BUDGET_MINUTES),--budget-minutes $(BUDGET_MINUTES))
RUN    := $(PY) -m digit_recognizer.runner $(COMMON) $(SEARCH) $(call switch,$(TUNE),tune,TUNE) \
          $(if $(DATA_DIR),--data-dir "$(DATA_DIR)")
DIST   := $(PY) -m digit_recognizer.distributed $(COMMON) $(SEARCH) --ip $(ORACLE_IP) --port $(ORACLE_PORT)

.DEFAULT_GOAL := help
.PHONY: help setup data prepare tune retune tune-chief tune-worker train submission run submit tensorboard \
        submissions kaggle-kernel kaggle-push kaggle-status kaggle-output bench bench-tuned fidelity gpu-check-files test test-quick lint lab lock \
        clean distclean

help: ## List the targets (variables: PROFILE=smoke|fast|full, SEED, DATA_DIR, TUNE=1, TUNER, MAX_EPOCHS, ...)
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# requires-python in pyproject.toml, the lowest Python the lock installs on: a clear error, not pip's
PY_CHECK := import re, sys; \
            need = re.search(r"requires-python = \">=([0-9.]+)\"", open("pyproject.toml").read())[1]; \
            sys.exit(f"Python {need} or later needed, {sys.version.split()[0]} found: rm -rf $(VENV), then \
            make setup PYTHON=python3.12" if sys.version_info < tuple(map(int, need.split("."))) else 0)

# Both locks at once, every file checked against its hash; the project itself (editable, so no hash) after.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c '$(PY_CHECK)'
	$(PY) -m pip install --quiet --require-hashes -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

setup: $(VENV)/.installed ## Create .venv and install both hashed locks, runtime and development (the other targets do it too)

data: setup ## Get the data: Kaggle's files into data/raw/ (SOURCE=mnist: build them from public MNIST)
	$(PY) -m digit_recognizer.download --source $(SOURCE) $(if $(SEED),--seed $(SEED))

# tune, train and submission run notebooks 01-02 first only when data/processed/dataset.npz is missing or
# was prepared from other inputs (profile, seed, data folder, the data files' SHA-256)
prepare: setup ## Notebooks 01-02: load, validate, scale and split the data (always, afresh)
	$(RUN) 01 02

tune: setup ## Notebook 03: search hyperparameters for notebook 04 (resumes an interrupted search)
	$(RUN) 03

retune: setup ## Like tune, but archive the earlier search and start a fresh one
	$(RUN) --retune 03

tune-chief: prepare ## Distributed tuning: the chief (ORACLE_IP to listen on, ORACLE_PORT); exports results
	$(DIST) --role chief

tune-worker: prepare ## Distributed tuning: a worker (ORACLE_IP/ORACLE_PORT of the chief, WORKER_ID)
	$(DIST) --role worker $(if $(WORKER_ID),--worker-id $(WORKER_ID))

train: setup ## Notebook 04: train the final model (with what the search adopted where one is on record)
	$(RUN) 04

submission: setup ## Notebook 05: predict test.csv with the trained model, write submission.csv
	$(RUN) 05

run: setup ## Run every notebook in order, data to submission.csv (the search only with TUNE=1); reports/
	$(RUN)

submit: setup ## Send submission.csv (or SUBMIT_DIR's) to Kaggle, wait for its public score, keep it in models/run.json
	$(PY) -m digit_recognizer.kaggle_api submit $(if $(SUBMIT_DIR),--output-dir "$(SUBMIT_DIR)") \
		$(if $(SCORE_WAIT),--wait $(SCORE_WAIT))

submissions: setup ## List this competition's submissions: status, public score, and the run each came from
	$(PY) -m digit_recognizer.kaggle_api submissions $(if $(SUBMIT_DIR),--output-dir "$(SUBMIT_DIR)")

tensorboard: setup ## Open TensorBoard on models/logs: the final training's curves, the search's HParams view
	$(PY) -m tensorboard.main --logdir models/logs

kaggle-kernel: setup ## Write KAGGLE_KERNEL_DIR: a Kaggle notebook running the pipeline from REPO_URL
	$(PY) -m digit_recognizer.kaggle_api kernel --folder "$(KAGGLE_KERNEL_DIR)" $(if $(PROFILE),--profile $(PROFILE)) \
		$(if $(REPO_URL),--repo-url "$(REPO_URL)") $(if $(REPO_REF),--ref "$(REPO_REF)")

kaggle-push: kaggle-kernel ## Push that notebook to Kaggle, which runs it on its GPU (needs Kaggle credentials)
	$(PY) -m digit_recognizer.kaggle_api push --folder "$(KAGGLE_KERNEL_DIR)"

kaggle-status: setup ## The pushed notebook's run on Kaggle: queued, running, complete or error (and why)
	$(PY) -m digit_recognizer.kaggle_api status --folder "$(KAGGLE_KERNEL_DIR)"

kaggle-output: setup ## Download the finished run's outputs (submission.csv, models/, reports/) to KAGGLE_OUTPUT_DIR
	$(PY) -m digit_recognizer.kaggle_api output --folder "$(KAGGLE_KERNEL_DIR)" --to "$(KAGGLE_OUTPUT_DIR)"

bench: setup ## Benchmark: reference recipe vs the fast and full jobs, BENCH_SEEDS seeds; resumes; benchmarks/RESULTS*.md
	$(PY) benchmarks/bench.py --seeds $(BENCH_SEEDS) $(if $(DATA_DIR),--data-dir "$(DATA_DIR)")

bench-tuned: setup ## Like bench, with the tuned job too (search, confirmation, then the ensemble)
	$(PY) benchmarks/bench.py --seeds $(BENCH_SEEDS) --jobs reference fast full tuned $(if $(DATA_DIR),--data-dir "$(DATA_DIR)")

fidelity: setup ## Whether the search's short trials rank as the final training does (benchmarks/fidelity.py)
	$(PY) benchmarks/fidelity.py $(if $(SEED),--seed $(SEED)) $(if $(DATA_DIR),--data-dir "$(DATA_DIR)") \
	  $(if $(BUDGET_MINUTES),--budget-minutes $(BUDGET_MINUTES))

# What benchmarks/gpu_check.sh needs on a GPU machine without TensorFlow (Python 3.12): the lock's Keras and
# Keras Tuner with the needs that machine lacks, as wheels, and the data; build/ travels as carried paths.
GPU_WHEELS := keras keras-tuner kt-legacy namex optree
gpu-check-files: setup ## Wheels (Python 3.12) and the data for benchmarks/gpu_check.sh into build/gpu-wheels, build/gpu-data
	rm -rf build/gpu-wheels build/gpu-data && mkdir -p build/gpu-data
	$(PY) -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
		-d build/gpu-wheels $(foreach name,$(GPU_WHEELS),$(shell grep -E '^$(name)==' requirements.txt | cut -d' ' -f1))
	cp -r "$(GPU_DATA)" build/gpu-data/mnist-full && chmod -R u+w build/gpu-data
	du -sh build/gpu-wheels build/gpu-data

test: setup ## Run the whole test suite (TEST_WORKERS processes)
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

test-quick: setup ## Run the quick tests only, not the end-to-end runs (pytest -m "not e2e")
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "not e2e"

lint: setup ## Lint the package, tests and notebooks with ruff; check the import layers (pyproject.toml)
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

lab: setup ## Open JupyterLab on the project's environment, to run the notebooks by hand
	$(PY) -m jupyter lab notebooks

# one universal lock: markers for each Python (from requires-python's) and platform, a hash for every file
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11.5 --generate-hashes \
        --no-strip-markers --no-emit-index-url
lock: setup ## Re-pin both hashed locks with uv: requirements.in -> .txt, then requirements-dev.in -> .txt
	$(LOCK) --output-file requirements.txt requirements.in
	$(LOCK) --output-file requirements-dev.txt requirements-dev.in

clean: ## Remove run outputs: reports, processed data, models, submission.csv (keeps data and .venv)
	rm -rf reports data/processed submission.csv
	find models -mindepth 1 ! -name .gitkeep -exec rm -rf {} +

distclean: clean ## Also remove .venv and build/ (the Kaggle kernel folder)
	rm -rf $(VENV) build
