"""Model folders on disk: saves survive a kill, cards round-trip, folders are found."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model import files, load_predictor
from model.files import (
    ModelFileError,
    atomic_write,
    atomic_write_bytes,
    file_sha256,
    list_model_dirs,
    read_card,
    resolve_model_dir,
    write_card,
)
from model.settings import SETTINGS
from training.data import Mnist, to_model_input

PROJECT_DIR = Path(__file__).resolve().parent.parent
HALF_WRITTEN = "half-written"

# Saves `payload` over `target` through atomic_write, but stops half-way:
# either it waits to be SIGKILLed or it exits without any clean-up.
CHILD = f"""
import os, sys, time
from pathlib import Path
from model.files import atomic_write

target, payload, how = Path(sys.argv[1]), Path(sys.argv[2]).read_bytes(), sys.argv[3]

def write(tmp):
    with open(tmp, "wb") as f:
        f.write(payload[: len(payload) // 2])
        f.flush()
        os.fsync(f.fileno())
    print("{HALF_WRITTEN}", flush=True)
    if how == "exit":
        os._exit(1)
    time.sleep(120)

atomic_write(target, write)
"""


@pytest.fixture
def model_copy(shipped_dir: Path, tmp_path: Path) -> Path:
    """A copy of the shipped model inside a private runs/ folder."""
    return Path(shutil.copytree(shipped_dir, tmp_path / "runs" / "existing"))


@pytest.fixture
def private_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Point the shipped-model and runs/ locations at folders under tmp_path."""
    runs = tmp_path / "runs"
    runs.mkdir(exist_ok=True)
    moved = dataclasses.replace(SETTINGS, runs_dir=runs, shipped_model_dir=tmp_path / "shipped")
    monkeypatch.setattr(files, "SETTINGS", moved)
    return runs


def interrupted_save(target: Path, payload: Path, how: str) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(target), str(payload), how],
                             cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == HALF_WRITTEN
        if how == "kill":
            child.kill()  # SIGKILL: no finally blocks, no clean-up
    finally:
        child.wait(timeout=60)
    assert child.returncode != 0


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_interrupted_save_leaves_previous_model_loadable(
    how: str, model_copy: Path, private_settings: Path, tmp_path: Path, mnist: Mnist
) -> None:
    import keras

    target = model_copy / SETTINGS.keras_file
    before = file_sha256(target)
    new_model = tmp_path / "new.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)]).save(new_model)

    interrupted_save(target, new_model, how)

    assert file_sha256(target) == before
    strays = [p for p in model_copy.iterdir() if ".tmp" in p.name]
    assert len(strays) == 1 and strays[0].stat().st_size > 0  # it really died mid-write
    network = keras.saving.load_model(target, compile=False, safe_mode=True)
    x = to_model_input(mnist.x_test[:50])
    reference = np.asarray(network(x, training=False))
    for backend in ("keras", "onnx"):
        proba = load_predictor(model_copy, backend=backend).predict_proba(x)
        np.testing.assert_allclose(proba, reference, atol=1e-5)
    # The stray temp file is not a model: the folder is listed once, by its real file.
    assert resolve_model_dir(model_copy) == model_copy
    assert list_model_dirs() == [model_copy]


def test_killed_first_save_is_not_a_model(private_settings: Path, shipped_dir: Path) -> None:
    folder = private_settings / "never-finished"
    interrupted_save(folder / SETTINGS.keras_file, shipped_dir / SETTINGS.keras_file, "kill")
    (stray,) = folder.iterdir()  # only the temp file is there
    assert stray.name.startswith(".") and ".tmp" in stray.name
    with pytest.raises(ModelFileError, match="No model"):
        resolve_model_dir(folder)
    assert list_model_dirs() == []


def test_failed_writer_leaves_previous_file_and_no_temp(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "data.bin", b"previous")

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, broken)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]


def test_atomic_write_makes_folders_and_normal_permissions(tmp_path: Path) -> None:
    target = atomic_write_bytes(tmp_path / "a" / "b" / "card.json", b"{}")
    assert target.read_bytes() == b"{}"
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_card_round_trip(tmp_path: Path) -> None:
    card = {"name": "run-ü", "test": {"accuracy": 0.9961, "per_class": {"3": {"f1": 0.99}}},
            "history": [{"loss": 0.1}, {"loss": 0.05}], "files": {}}
    write_card(tmp_path, card)
    assert read_card(tmp_path) == card
    card["name"] = "renamed"
    write_card(tmp_path, card)  # overwriting goes through the same atomic path
    assert read_card(tmp_path)["name"] == "renamed"


def test_read_card_missing_and_corrupt(tmp_path: Path) -> None:
    assert read_card(tmp_path) == {}
    (tmp_path / SETTINGS.card_file).write_text('{"name": "cut off')
    with pytest.raises(ModelFileError, match="cannot be read"):
        read_card(tmp_path)


def test_file_sha256(tmp_path: Path) -> None:
    data = os.urandom(3 << 20)  # spans several read chunks
    (tmp_path / "blob").write_bytes(data)
    assert file_sha256(tmp_path / "blob") == hashlib.sha256(data).hexdigest()


def test_resolve_model_dir(shipped_dir: Path, model_copy: Path, tmp_path: Path) -> None:
    assert resolve_model_dir() == shipped_dir
    assert resolve_model_dir(model_copy) == model_copy
    assert resolve_model_dir(model_copy / SETTINGS.keras_file) == model_copy
    (model_copy / SETTINGS.keras_file).unlink()
    assert resolve_model_dir(str(model_copy)) == model_copy  # ONNX alone is enough
    with pytest.raises(ModelFileError, match="No model"):
        resolve_model_dir(tmp_path / "does-not-exist")
    card_only = tmp_path / "card-only"
    write_card(card_only, {"name": "card-only"})
    with pytest.raises(ModelFileError, match="No model"):
        resolve_model_dir(card_only)


def test_list_model_dirs_shipped_first_then_newest_runs(private_settings: Path,
                                                        shipped_dir: Path,
                                                        tmp_path: Path) -> None:
    assert list_model_dirs() == []
    shipped = Path(shutil.copytree(shipped_dir, tmp_path / "shipped"))
    now = time.time()
    for age, name in [(300, "old"), (0, "new"), (100, "middle")]:
        run = Path(shutil.copytree(shipped_dir, private_settings / name))
        os.utime(run, (now - age, now - age))
    write_card(private_settings / "no-weights", {"name": "no-weights"})
    assert list_model_dirs() == [shipped, *(private_settings / n for n in ("new", "middle", "old"))]


def test_file_sha256_is_remembered_but_follows_changes(tmp_path: Path) -> None:
    from model.files import file_sha256

    path = tmp_path / "weights.bin"
    path.write_bytes(b"first")
    assert file_sha256(path) == hashlib.sha256(b"first").hexdigest()
    path.write_bytes(b"second!")  # another size, so even a coarse clock cannot hide it
    assert file_sha256(path) == hashlib.sha256(b"second!").hexdigest()
    before = path.stat().st_mtime_ns
    path.write_bytes(b"third!!")  # same size: only the modification time tells
    os.utime(path, ns=(before + 1_000_000, before + 1_000_000))
    assert file_sha256(path) == hashlib.sha256(b"third!!").hexdigest()
