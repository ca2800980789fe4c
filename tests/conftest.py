"""Fixtures shared by the suite: the real MNIST files and the real shipped model."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

# No test reads or writes the developer's runs/ (trained models, the MLflow store and its
# model registry): the session gets an empty one of its own, set before model.settings is
# imported, and inherited by every CLI and server a test starts. With no registry there,
# everything loads model/shipped, as the tests expect; tests of the store make their own.
_SESSION_RUNS = tempfile.mkdtemp(prefix="digit-studio-runs-")
atexit.register(shutil.rmtree, _SESSION_RUNS, ignore_errors=True)
os.environ["DIGIT_STUDIO_RUNS"] = _SESSION_RUNS
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("DIGIT_STUDIO_MONITOR_DB", None)  # the prediction log: <session runs>/monitor.db

from model import Predictor, load_predictor  # noqa: E402
from model.settings import SETTINGS  # noqa: E402
from tests.browser import app_url, browser, page  # noqa: E402, F401  (browser fixtures, shared)

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = PROJECT_DIR / "test-artifacts"


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The folder CI and developers point MNIST_DIR at (../shared/data/mnist)."""
    folder = os.environ.get("MNIST_DIR")
    if not folder:
        pytest.fail("Set MNIST_DIR to the folder of the four MNIST files (make test does).")
    return Path(folder).resolve()  # relative paths too: tests symlink the files elsewhere


@pytest.fixture(scope="session")
def mnist(mnist_dir: Path):
    from training.data import load_mnist

    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def usps_test():
    """USPS test: 2,007 digits by writers the shipped model never saw."""
    from training.usps import load_usps

    return load_usps("test")


@pytest.fixture(scope="session")
def shipped_dir() -> Path:
    if not (SETTINGS.shipped_model_dir / SETTINGS.keras_file).is_file():
        pytest.fail(f"The shipped model is missing from {SETTINGS.shipped_model_dir}.")
    return SETTINGS.shipped_model_dir


@pytest.fixture(scope="session")
def predictor(shipped_dir: Path) -> Predictor:
    """The shipped model behind the fast (ONNX Runtime) backend, as the app loads it."""
    return load_predictor(shipped_dir)


@pytest.fixture
def no_mnist_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """MNIST_DIR unset: the data is found (or not) without it."""
    monkeypatch.delenv("MNIST_DIR", raising=False)


@pytest.fixture
def monitor_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private, empty monitoring store (`SETTINGS.monitor_db`) with logging switched on:
    the path of its file, which the prediction log and the feedback store write to."""
    from model.predlog import OFF_SWITCH

    path = tmp_path / "monitor.db"
    monkeypatch.setenv("DIGIT_STUDIO_MONITOR_DB", str(path))
    monkeypatch.delenv(OFF_SWITCH, raising=False)
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def clear(mnist, predictor) -> np.ndarray:
    """Test digits the model reads right with confidence from the 28x28 original.

    Tests of the reader and of normalisation use these, so a failure points at them, not
    at the model.
    """
    images = mnist.x_test[:3000]
    proba = predictor.predict_proba(images.astype(np.float32) / 255.0)
    ok = (proba.argmax(1) == mnist.y_test[:3000]) & (proba.max(1) > 0.95)
    return np.flatnonzero(ok)
