"""training.monitor: the report's figures, drift, prune; the scoring service's requests counted
under "service"; the feedback store and its zip export."""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model import feedback, monitor_store, predlog
from model.reader import read_digits
from tests.scoring_server import scoring_server
from training import monitor
from training.samples import SAMPLES_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent
WAIT_S = 30.0


@pytest.fixture(scope="module")
def reading(predictor):
    return read_digits(SAMPLES_DIR / "invoice_total.png", predictor)


def test_psi_is_zero_for_equal_mixes_and_grows_with_shift():
    assert monitor.psi(monitor.MNIST_MIX * 1000, monitor.MNIST_MIX) == pytest.approx(0, abs=1e-9)
    only_ones = np.eye(10)[1] * 100
    assert monitor.psi(only_ones, monitor.MNIST_MIX) > 1.0
    assert monitor.psi([55, 45], [50, 50]) < monitor.psi([80, 20], [50, 50])


@pytest.mark.parametrize("text, seconds", [("10m", 600), ("1h", 3600), ("2d", 172_800),
                                           ("30s", 30), ("1w", 604_800), ("all", None)])
def test_spans(text, seconds):
    assert monitor.parse_span(text) == seconds


def test_a_bad_span_is_one_sentence():
    done = subprocess.run([sys.executable, "-m", "training.monitor", "report", "--since",
                           "yesterday"], cwd=PROJECT_DIR, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "not a time span" in done.stderr
    assert "Traceback" not in done.stderr


def test_report_counts_sources_latency_mix_and_feedback(monitor_db: Path, reading):
    for i in range(30):
        predlog.log_reading("draw", reading, latency_ms=float(i), model="shipped", session="a")
    predlog.log_reading("upload", None, latency_ms=100.0, model="shipped")
    assert predlog.flush(WAIT_S)
    feedback.save_answers(reading, [d.digit for d in reading.digits], source="draw",
                          model="shipped")
    wrong = [(d.digit + 1) % 10 for d in reading.digits]
    feedback.save_answers(reading, wrong, source="draw", model="digit-cnn v2")
    summary = monitor.report(600)
    assert summary["requests"] == 31
    assert summary["by_source"]["draw"]["requests"] == 30
    assert summary["by_source"]["draw"]["latency_ms"]["p50"] == pytest.approx(14.5)
    assert summary["by_source"]["upload"]["latency_ms"]["p95"] == pytest.approx(100.0)
    digits = [d.digit for d in reading.digits]
    assert summary["class_mix"][str(digits[0])] > 0
    assert sum(summary["class_mix"].values()) == pytest.approx(1.0, abs=1e-3)
    assert summary["drift"]["class_psi"] > 0.2  # three digits, far from MNIST's mix
    assert any("drifted" in line for line in summary["alerts"])
    n = len(digits)
    assert summary["feedback"] == {"count": 2 * n, "accuracy": 0.5, "by_model": [
        {"model": "shipped", "version": "", "count": n, "accuracy": 1.0},
        {"model": "digit-cnn v2", "version": "2", "count": n, "accuracy": 0.0}]}
    assert monitor.report(None)["requests"] == 31


def test_timeline_buckets_by_source(monitor_db: Path, reading):
    for source in ("draw", "draw", "service"):
        predlog.log_reading(source, reading, latency_ms=5.0, model="shipped")
    assert predlog.flush(WAIT_S)
    df = monitor.window(3600)
    timeline = monitor.timeline(df, f"{monitor.bucket_minutes(df, 3600)}min")
    assert timeline.groupby("source")["requests"].sum().to_dict() == {"draw": 2, "service": 1}
    assert monitor.not_sure_over_time(df, "1min")["not_sure"].between(0, 1).all()


def test_prune_cli_keeps_recent_readings(monitor_db: Path):
    predlog.log_reading("cli", None, latency_ms=1.0, model="shipped")
    assert predlog.flush(WAIT_S)
    env = {**os.environ, "DIGIT_STUDIO_MONITOR_DB": str(monitor_db)}
    done = subprocess.run([sys.executable, "-m", "training.monitor", "prune", "--keep-days", "1"],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Deleted 0 readings" in done.stdout
    assert len(monitor_store.load_readings(path=monitor_db)) == 1


def test_feedback_is_kept_listed_deleted_and_exported(monitor_db: Path, reading, tmp_path: Path):
    canvas = np.zeros((reading.height, reading.width), np.uint8)
    ids = feedback.save_answers(reading, [7] * len(reading.digits), source="upload",
                                model="shipped", picture=canvas)
    assert len(ids) == len(reading.digits)
    items = feedback.list_feedback(label=7)
    assert [i.id for i in items] == sorted(ids, reverse=True)  # newest first
    assert items[0].crop.shape == (28, 28) and feedback.original_ink(ids[0]) is not None
    assert feedback.delete_feedback([ids[0]]) == 1
    feedback.export_zip(tmp_path / "out.zip")
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"7/{i}.png" for i in ids[1:])
        crop = np.asarray(Image.open(io.BytesIO(archive.read(f"7/{ids[1]}.png"))))
    assert crop.shape == (28, 28)
    with pytest.raises(ValueError):
        feedback.save_answers(reading, [1], source="draw", model="shipped")


# --- The scoring service, as `make serve` runs it ------------------------------------------


def _post(port: int, body: bytes) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/score", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


@pytest.fixture
def service(tmp_path: Path, shipped_dir: Path) -> Iterator[tuple[int, Path]]:
    """The scoring script under gunicorn (as `make serve`), logging to its own store."""
    db = tmp_path / "service-monitor.db"
    with scoring_server(shipped_dir, tmp_path / "server.log",
                        {"DIGIT_STUDIO_MONITOR_DB": str(db), predlog.OFF_SWITCH: None},
                        workers=2) as port:
        yield port, db


def test_service_requests_are_counted_under_service(service, mnist):
    port, db = service
    count = 0  # readings with digits: an answer "no digit found" is not a reading
    for i in range(12):
        buffer = io.BytesIO()
        Image.fromarray(255 - mnist.x_test[i]).save(buffer, "PNG")
        body = json.dumps({"image": base64.b64encode(buffer.getvalue()).decode()}).encode()
        status, answer = _post(port, body)
        assert status == 200
        count += bool(answer["digits"])
    assert count >= 10
    env = {**os.environ, "DIGIT_STUDIO_MONITOR_DB": str(db)}
    deadline = time.monotonic() + WAIT_S
    while True:  # the workers' writer threads land their batches within moments
        done = subprocess.run([sys.executable, "-m", "training.monitor", "report", "--since",
                               "10m", "--json"], cwd=PROJECT_DIR, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        served = summary["by_source"].get("service", {})
        if served.get("requests") == count or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert served["requests"] == count and summary["requests"] == count
    assert 0 < served["latency_ms"]["p50"] <= served["latency_ms"]["p95"]
    assert sum(summary["class_mix"].values()) == pytest.approx(1.0, abs=1e-3)
