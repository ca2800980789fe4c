"""The Monitor page under AppTest: figures from a real log, alerts, windows, and the
"Retrain with feedback" button starting `training.retrain` as the server's background job."""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from model import load_predictor, monitor_store, predlog
from model.reader import read_digits
from model.settings import SETTINGS
from training.samples import SAMPLES_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP = str(PROJECT_DIR / "app.py")
RUN_TIMEOUT_S = 90


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, predictor,
           monitor_db: Path) -> Iterator[Path]:
    """A private store holding 30 readings of the same three digits, and a private runs/."""
    from training import jobs

    monkeypatch.setattr("training.jobs.records.SETTINGS",
                        dataclasses.replace(SETTINGS, runs_dir=tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv(jobs.STANDBY_ENV, "0")
    reading = read_digits(SAMPLES_DIR / "invoice_total.png", predictor)
    for i in range(30):
        predlog.log_reading("service", reading, latency_ms=400.0 + i, model="shipped")
    assert predlog.flush(30)
    yield tmp_path
    for job in jobs.list_jobs():
        if job.active:
            jobs.cancel(job.id)


def _monitor() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    at.run()
    at.switch_page("pages/monitor.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_the_page_shows_the_log_and_its_alerts(logged: Path):
    at = _monitor()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Readings"] == "30"
    assert metrics["Latency p50"] == "414 ms"
    warnings = " ".join(w.body for w in at.warning)
    assert "drifted from MNIST" in warnings and "Latency p95" in warnings
    for window in ("last hour", "all", "last week"):
        at.segmented_control(key="monitor_window").set_value(window).run()
        assert not at.exception and at.metric[0].value == "30"


@pytest.mark.slow
def test_retrain_with_feedback_runs_as_a_background_job(logged: Path):
    from model import feedback
    from training import jobs

    at = _monitor()
    assert at.button(key="monitor_retrain").disabled  # nothing to learn from yet
    reading = read_digits(SAMPLES_DIR / "invoice_total.png", load_predictor())
    feedback.save_answers(reading, [d.digit for d in reading.digits], source="upload",
                          model="shipped")
    at.run()
    at.button(key="monitor_retrain").click().run()
    assert not at.exception, [e.message for e in at.exception]
    job = jobs.latest(kind="retrain")
    assert job is not None and job.argv[:3] == [sys.executable, "-m", "training.retrain"]
    assert job.active or job.status == "finished"
    at.run()
    assert at.button(key="monitor_retrain").disabled  # one job at a time
    ended = jobs.cancel(job.id)
    deadline = time.monotonic() + 30
    while jobs.refresh(jobs.load(job.id)).active and time.monotonic() < deadline:
        time.sleep(0.2)
    assert ended.status in ("cancelled", "failed", "finished")


def test_an_upload_is_logged_once_and_its_feedback_kept(logged: Path):
    from model import feedback

    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    at.run()
    at.switch_page("pages/upload.py").run()
    data = (SAMPLES_DIR / "invoice_total.png").read_bytes()
    at.file_uploader(key="upload_files").set_value([("invoice_total.png", data, "image/png")])
    at.run()
    at.run()  # a rerun (any click) reads the cached file again: not a new request
    assert not at.exception, [e.message for e in at.exception]
    assert predlog.flush(30)
    uploads = [r for r in monitor_store.load_readings() if r.source == "upload"]
    assert len(uploads) == 1 and uploads[0].text == at.code[0].value
    at.button(key="upload_feedback_0_right").click().run()
    kept = feedback.list_feedback()
    assert len(kept) == len(uploads[0].digits) and all(i.correct for i in kept)
    assert {i.source for i in kept} == {"upload"}
    assert any("labelled example" in s.body for s in at.success)


def test_a_corrupt_store_is_one_sentence_on_the_page(logged: Path):
    with open(logged / "monitor.db", "r+b") as f:
        f.write(b"scribbled over")
    at = _monitor()
    assert any("cannot be read" in e.value for e in at.error)
