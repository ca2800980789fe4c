"""The prediction log: records land whole, several processes lose nothing, a broken store
never breaks a prediction and recovers once fixed."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model import monitor_store, predlog
from model.reader import read_digits
from training.samples import SAMPLES_DIR

PROJECT_DIR = Path(__file__).resolve().parent.parent
WAIT_S = 20.0


@pytest.fixture(scope="module")
def reading(predictor):
    return read_digits(SAMPLES_DIR / "invoice_total.png", predictor)


def test_a_logged_reading_is_stored_whole(monitor_db: Path, reading):
    predlog.log_reading("cli", reading, latency_ms=3.5, model="digit-cnn v3", session="abc",
                        image=b"the image bytes")
    predlog.log_reading("service", None, latency_ms=1.0, model="shipped")
    assert predlog.flush(WAIT_S)
    (first, crops), (second, none) = monitor_store.load_readings(path=monitor_db, with_crops=True)
    assert (first.source, first.session, first.model, first.version) == (
        "cli", "abc", "digit-cnn v3", "3")
    assert first.text == reading.text and first.latency_ms == 3.5
    assert first.digits == [d.digit for d in reading.digits]
    assert first.sure == reading.sure
    assert np.allclose(first.confidences, [d.confidence for d in reading.digits], atol=1e-4)
    assert crops.shape == (len(reading.digits), 28, 28) and crops.dtype == np.uint8
    expected = np.round(reading.digits[0].image * 255).astype(np.uint8)
    assert np.array_equal(crops[0], expected)
    assert (second.text, second.digits, second.sure, second.version) == ("", [], False, "")
    assert none.shape == (0, 28, 28)
    with sqlite3.connect(monitor_db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT image_hash FROM readings").fetchall()[0][0] is not None


WRITER = """
import sys
from model import predlog
for i in range(int(sys.argv[1])):
    predlog.log_reading("batch", None, latency_ms=float(i), model="shipped", session=sys.argv[2])
"""


def test_several_processes_writing_at_once_lose_nothing(monitor_db: Path):
    count, processes = 400, 4
    env = {**os.environ, "DIGIT_STUDIO_MONITOR_DB": str(monitor_db)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(count), f"p{i}"],
                                cwd=PROJECT_DIR, env=env) for i in range(processes)]
    predlog.log_reading("draw", None, latency_ms=1.0, model="shipped")  # and this process
    assert [w.wait(timeout=120) for w in writers] == [0] * processes
    assert predlog.flush(WAIT_S)
    rows = monitor_store.load_readings(path=monitor_db)
    assert len(rows) == count * processes + 1
    for i in range(processes):
        assert sorted(r.latency_ms for r in rows if r.session == f"p{i}") == list(
            map(float, range(count)))


def _backup(store: Path, copy: Path) -> None:
    with sqlite3.connect(store) as source, sqlite3.connect(copy) as target:
        source.backup(target)


def _wait_for(condition, timeout: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_corrupt_store_warns_once_and_recovers(monitor_db: Path, reading, predictor, tmp_path,
                                                 caplog: pytest.LogCaptureFixture):
    predlog.log_reading("draw", reading, latency_ms=1.0, model="shipped")
    assert predlog.flush(WAIT_S)
    _backup(monitor_db, tmp_path / "good.db")
    with open(monitor_db, "r+b") as f:  # scribbled over while the app runs
        f.write(b"this is no longer a database")
    caplog.set_level(logging.INFO, logger="model.predlog")
    for _ in range(5):  # predictions go on
        again = read_digits(SAMPLES_DIR / "invoice_total.png", predictor)
        predlog.log_reading("draw", again, latency_ms=1.0, model="shipped")
    assert _wait_for(lambda: predlog.writer_state()["failing"])
    for _ in range(3):
        predlog.log_reading("draw", reading, latency_ms=1.0, model="shipped")
    time.sleep(0.5)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and r.name == "model.predlog"]
    assert len(warnings) == 1 and "cannot be written" in warnings[0].getMessage()

    os.replace(tmp_path / "good.db", monitor_db)  # fixed: the backup is put back
    predlog.log_reading("draw", reading, latency_ms=1.0, model="shipped")
    assert predlog.flush(WAIT_S)
    assert not predlog.writer_state()["failing"]
    # the waiting ones too
    assert len(monitor_store.load_readings(path=monitor_db)) == 1 + 5 + 3 + 1
    assert any("works again" in r.getMessage() for r in caplog.records)


def test_a_store_that_cannot_be_opened_never_raises(monitor_db: Path, reading, caplog):
    monitor_db.mkdir()  # a folder where the file should be: SQLite cannot open it
    caplog.set_level(logging.WARNING, logger="model.predlog")
    predlog.log_reading("upload", reading, latency_ms=1.0, model="shipped")
    assert _wait_for(lambda: predlog.writer_state()["failing"])
    assert not predlog.flush(0.5)
    monitor_db.rmdir()
    predlog.log_reading("upload", reading, latency_ms=2.0, model="shipped")
    assert predlog.flush(WAIT_S)
    assert [r.latency_ms for r in monitor_store.load_readings(path=monitor_db)] == [1.0, 2.0]
    assert len([r for r in caplog.records if r.levelno == logging.WARNING
                and r.name == "model.predlog"]) == 1


def test_logging_can_be_switched_off(monitor_db: Path, monkeypatch):
    monkeypatch.setenv(predlog.OFF_SWITCH, "off")
    predlog.log_reading("cli", None, latency_ms=1.0, model="shipped")
    assert predlog.flush(WAIT_S)
    assert monitor_store.load_readings(path=monitor_db) == []


def test_prune_deletes_old_readings_only(monitor_db: Path):
    predlog.log_reading("cli", None, latency_ms=1.0, model="shipped")
    assert predlog.flush(WAIT_S)
    with monitor_store.open_store(monitor_db) as conn:
        conn.execute("UPDATE readings SET time = time - 10 * 86400")
    predlog.log_reading("cli", None, latency_ms=2.0, model="shipped")
    assert predlog.flush(WAIT_S)
    assert monitor_store.prune(7, monitor_db) == 1
    assert [r.latency_ms for r in monitor_store.load_readings(path=monitor_db)] == [2.0]


def test_model_versions_are_parsed_from_labels():
    assert monitor_store.model_version("digit-cnn v12") == "12"
    assert monitor_store.model_version("digit-cnn@3") == "3"
    assert monitor_store.model_version("shipped") == ""


def test_the_predict_cli_logs_with_log(monitor_db: Path):
    files = [str(SAMPLES_DIR / "invoice_total.png"), str(SAMPLES_DIR / "invoice_total.png")]
    env = {**os.environ, "DIGIT_STUDIO_MONITOR_DB": str(monitor_db)}
    for flags in ([], ["--log"]):
        done = subprocess.run([sys.executable, "-m", "model.predict", *flags, *files],
                              cwd=PROJECT_DIR, env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr
    rows = monitor_store.load_readings(path=monitor_db)
    assert [r.source for r in rows] == ["cli", "cli"]  # only the run with --log
    assert all(r.latency_ms > 0 and r.digits for r in rows)
