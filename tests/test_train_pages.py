"""/train and /experiments under AppTest, on a real MLflow store in a temporary folder filled
by real tiny trainings (2,000 digits, one epoch) and a real two-trial sweep."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model.settings import SETTINGS
from training import jobs

pytestmark = pytest.mark.slow  # the store is filled by real trainings

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP = str(PROJECT_DIR / "app.py")
RUN_TIMEOUT_S = 120
JOB_TIMEOUT_S = 240
USPS_LIMIT = 100  # registered versions are scored on the first 100 USPS digits (quick)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path) -> Iterator[dict]:
    """A runs/ folder with an MLflow store holding: one classroom run, a sweep over
    filters=2,5 (parent and two trials), and two registered versions."""
    from training.config import PRESETS
    from training.registry import register_run
    from training.train import train

    runs = tmp_path_factory.mktemp("runs")
    uri = f"sqlite:///{runs / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        patch.setenv(jobs.STANDBY_ENV, "0")
        patch.setattr("training.jobs.records.SETTINGS",
                      dataclasses.replace(SETTINGS, runs_dir=runs))
        cfg = dataclasses.replace(PRESETS["classroom"], limit=2000, epochs=1)
        card = train(cfg, runs / "classroom", mnist_dir, experiment="pages-test",
                     run_name="classroom-tiny")
        sweep = subprocess.run(
            [sys.executable, "-m", "training.sweep", "--grid", "filters=2,5", "--limit", "2000",
             "--epochs", "1", "--experiment", "pages-sweep", "--name", "channels"],
            cwd=PROJECT_DIR, capture_output=True, text=True, timeout=600,
            env={**os.environ, "DIGIT_STUDIO_RUNS": str(runs)})
        assert sweep.returncode == 0, sweep.stderr[-3000:]
        from training.experiments import runs_frame

        frame = runs_frame()
        trial_ids = frame[frame["parent"].notna()].sort_values("filters")["run_id"].tolist()
        first = card["mlflow"]["run_id"]
        for run_id in (first, trial_ids[0]):
            register_run(run_id, usps_limit=USPS_LIMIT)
        yield {"runs": runs, "first": first, "trials": trial_ids}
        from model.champion import forget_cached_choice

        forget_cached_choice()


def _run(at: AppTest) -> AppTest:
    at.run(timeout=RUN_TIMEOUT_S)
    assert not at.exception, [e.message for e in at.exception]
    return at


def _page(name: str) -> AppTest:
    at = _run(AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S))
    at.switch_page(f"pages/{name}.py")
    return _run(at)


@pytest.fixture
def empty_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(jobs.STANDBY_ENV, "0")
    monkeypatch.setattr("training.jobs.records.SETTINGS",
                        dataclasses.replace(SETTINGS, runs_dir=tmp_path))
    yield tmp_path
    for job in jobs.list_jobs():
        if job.active:
            jobs.cancel(job.id)
    jobs.settle()


def _texts(elements) -> list[str]:
    return [e.value for e in elements]


def _frame(at: AppTest, *, row: str | None = None, column: str | None = None):
    """The first table with that row label or column (AppTest has no keys for tables)."""
    for table in at.dataframe:
        value = table.value
        if (row is not None and row in value.index) or (column is not None
                                                         and column in value.columns):
            return value
    raise AssertionError(f"no table with row {row!r} or column {column!r}")


# --- /train ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "value", "words"), [
    ("learning_rate", -0.1, "learning rate must be above 0"),
    ("filters", "0,16", "at least 1 filter"),
    ("filters", "16,a", "whole numbers separated by commas"),
    ("epochs", 0, "epochs must be at least 1"),
])
def test_an_invalid_setting_is_a_message_and_starts_nothing(empty_runs: Path, field: str,
                                                            value, words: str) -> None:
    at = _page("train")
    widget = at.text_input if field == "filters" else at.number_input
    widget(key=f"train_classroom_{field}").set_value(value)
    at.button(key="train_start").click()
    _run(at)
    errors = _texts(at.error)
    assert len(errors) == 1 and words in errors[0], errors
    assert errors[0].startswith("Invalid settings") and "Traceback" not in errors[0]
    assert jobs.list_jobs() == []


def _tiny_form(at: AppTest, experiment: str) -> None:
    at.number_input(key="train_classroom_limit").set_value(2000)
    at.number_input(key="train_classroom_epochs").set_value(1)
    at.text_input(key="train_experiment").set_value(experiment)


def test_start_trains_in_the_background_and_shows_the_results(empty_runs: Path) -> None:
    at = _page("train")
    _tiny_form(at, "train-page")
    at.button(key="train_start").click()
    _run(at)
    job = jobs.latest("train")
    assert job is not None and job.experiment == "train-page"
    assert job.train_config().limit == 2000 and job.train_config().epochs == 1
    if job.active:  # the live view: progress and a Cancel button
        assert at.button(key="train_cancel")
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while jobs.refresh(jobs.load(job.id)).active:
        assert time.monotonic() < deadline, "the tiny training did not end"
        time.sleep(0.5)
    _run(at)
    assert any("finished" in s for s in _texts(at.success)), jobs.load(job.id).log_tail()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"].endswith("%") and "of 10,000" in metrics["Errors"]
    assert len(at.get("plotly_chart")) == 3  # loss, accuracy, confusion matrix
    at.button(key="train_register").click()
    _run(at)
    assert any("Registered as **digit-cnn v1**" in m for m in _texts(at.markdown))
    at.button(key="train_promote").click()  # a tiny model against the shipped one: refused
    _run(at)
    assert any("below the shipped model's" in w for w in _texts(at.warning)), _texts(at.success)
    at.checkbox(key="train_force").check()
    at.button(key="train_promote").click()
    _run(at)
    assert any("is the champion (forced past the gate)" in s for s in _texts(at.success)), \
        _texts(at.warning)
    from model.champion import forget_cached_choice

    forget_cached_choice()


def test_a_second_start_is_refused_and_cancel_stops_the_first(empty_runs: Path) -> None:
    from training.config import PRESETS

    # patience 50: early stopping must not end it before the second tab acts
    running = jobs.start_training(dataclasses.replace(PRESETS["classroom"], limit=2000,
                                                      epochs=50, patience=50),
                                  experiment="other-tab")
    at = _page("train")  # a second tab sees the run
    assert at.button(key="train_cancel")
    _tiny_form(at, "train-page")
    at.button(key="train_start").click()
    _run(at)
    assert any("already running" in e for e in _texts(at.error))
    assert [j.id for j in jobs.list_jobs()] == [running.id]
    at.button(key="train_cancel").click()
    _run(at)
    assert jobs.load(running.id).status == "cancelled"
    assert any("was cancelled" in w for w in _texts(at.warning))


# --- /experiments ----------------------------------------------------------------------------


def test_the_runs_table_lists_and_filters_every_run(store: dict) -> None:
    at = _page("experiments")
    table = at.dataframe[0].value
    assert len(table) == 4  # the classroom run, the sweep and its two trials
    assert {"run", "experiment", "status", "test_accuracy", "filters"} <= set(table.columns)
    assert set(table["status"]) == {"FINISHED"}
    at.toggle(key="exp_hide_trials").set_value(True)
    _run(at)
    assert len(at.dataframe[0].value) == 2
    at.multiselect(key="exp_filter_experiments").set_value(["pages-test"])
    _run(at)
    assert at.dataframe[0].value["run"].tolist() == ["classroom-tiny"]


def test_two_runs_are_compared(store: dict) -> None:
    at = _page("experiments")
    at.multiselect(key="exp_compare").set_value([store["first"], store["trials"][0]])
    _run(at)
    differ = _frame(at, row="filters")
    assert "filters" in differ.index and "16,32" in differ.loc["filters"].tolist()
    side = _frame(at, row="test_accuracy")
    assert "test_accuracy" in side.index and side.shape[1] == 2
    assert any("Confusion matrix of B − A" in m for m in _texts(at.markdown))


def test_a_sweep_gets_its_history_parallel_coordinates_and_channel_curve(store: dict) -> None:
    at = _page("experiments")
    assert "channels (2 trials)" in at.selectbox(key="exp_sweep").options
    captions = " ".join(_texts(at.caption))
    for words in ("Optimisation history", "against the network's size", "Parallel coordinates",
                  "hidden-channel experiment"):
        assert words in captions


def test_promotion_shows_the_gate_and_rollback_its_reason(store: dict) -> None:
    at = _page("experiments")
    # Tiny trainings land anywhere from chance to ~90 %: promote the better one first.
    ranked = _frame(at, column="role").sort_values("test_accuracy")["version"].tolist()
    worse, good = ranked
    assert set(_frame(at, column="role")["version"]) == {good, worse}
    at.selectbox(key="reg_version").set_value(good)
    at.button(key="reg_promote").click()  # no champion yet: the shipped model is the bar
    _run(at)
    assert any("below the shipped model's" in w for w in _texts(at.warning)), _texts(at.success)
    at.checkbox(key="reg_force").check()
    at.button(key="reg_promote").click()
    _run(at)
    assert any(f"v{good} is the champion (forced" in s for s in _texts(at.success))
    versions = _frame(at, column="role")
    assert versions.loc[versions["version"] == good, "role"].item() == "★ champion"
    at.checkbox(key="reg_force").uncheck()
    at.selectbox(key="reg_version").set_value(worse)
    at.button(key="reg_promote").click()
    _run(at)
    assert any("below the champion" in w for w in _texts(at.warning)), _texts(at.success)
    at.button(key="reg_rollback").click()
    _run(at)
    assert any("first champion" in w for w in _texts(at.warning))
    from model.champion import forget_cached_choice

    forget_cached_choice()


def test_a_broken_store_is_one_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "mlflow.db"
    broken.write_bytes(b"this is not a database" * 100)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{broken}")
    at = _page("experiments")
    errors = _texts(at.error)
    assert len(errors) == 1 and "cannot" in errors[0] and str(broken) in errors[0]
    at.switch_page("pages/draw.py")
    _run(at)
    assert not at.error  # the app still reads digits


def test_run_on_azure_ml_says_what_to_set_up_and_offers_the_yaml(empty_runs: Path,
                                                                 monkeypatch) -> None:
    for name in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP", "AZUREML_WORKSPACE_NAME"):
        monkeypatch.delenv(name, raising=False)
    at = _page("train")
    at.radio(key="train_run_on").set_value("Azure ML")
    _run(at)
    info = " ".join(_texts(at.info))
    assert "Azure ML is not configured" in info and "AZURE_SUBSCRIPTION_ID" in info
    assert any("--preset classroom" in c for c in _texts(at.caption))
    at.button(key="azure_yaml").click()
    _run(at)  # written and loaded back by azure-ai-ml's own loaders, offline
    assert len(at.get("download_button")) == 1
    assert jobs.list_jobs() == []  # nothing ran here
