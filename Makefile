# Digit Studio: `make run` starts the app, `make test` runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export MNIST_DIR ?= $(abspath ../shared/data/mnist)

.PHONY: run test lint bench train train-classroom evaluate clean serve mlflow

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.dev-installed: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed  ## set up and start the app on http://localhost:8501
	$(BIN)/streamlit run app.py

test: $(BIN)/.dev-installed  ## set up and run the whole suite (lint included)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(BIN)/.dev-installed
	$(BIN)/ruff check .

bench: $(BIN)/.dev-installed  ## predictor latency/throughput against Keras predict
	$(BIN)/python -m tests.benchmarks.bench_predictor

train: $(BIN)/.installed  ## the recipe that produced the shipped model
	$(BIN)/python -m training.train --preset mix --output model/shipped

train-classroom: $(BIN)/.installed  ## about a minute on 2 cores (99.2 % on MNIST test)
	$(BIN)/python -m training.train --preset classroom

evaluate: $(BIN)/.installed
	$(BIN)/python -m training.evaluate

# The scoring script (model/score.py) under Azure ML's inference server, on loopback:
# the server binds 0.0.0.0 on its own, so its app runs under gunicorn (../shared/FACTS.md).
PORT    ?= 5001
WORKERS ?= 2
serve: $(BIN)/.installed  ## model/score.py under azmlinfsrv on 127.0.0.1:$(PORT) (MODEL=DIR to pin a model)
	AML_APP_ROOT=$(CURDIR) AZUREML_ENTRY_SCRIPT=model/score.py \
	$(if $(MODEL),AZUREML_MODEL_DIR=$(abspath $(MODEL))) \
	$(BIN)/gunicorn -c gunicorn.conf.py -b 127.0.0.1:$(PORT) -w $(WORKERS) \
	azureml_inference_server_http.server.entry:app

STORE = $(BIN)/python -c 'from model.settings import SETTINGS as S; S.runs_dir.mkdir(parents=True, exist_ok=True); print(S.$(1))'
mlflow: $(BIN)/.installed  ## the MLflow UI on the experiment store (runs/mlflow.db) at http://127.0.0.1:5000
	$(BIN)/mlflow ui --backend-store-uri "$$($(call STORE,tracking_uri))" \
		--artifacts-destination "$$($(call STORE,artifacts_dir))" \
		--host 127.0.0.1 --port 5000 --workers 1

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
