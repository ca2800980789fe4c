"""The predictor every consumer shares: images in, probabilities out, fast for one image.

Keras `model.predict` costs 50-100 ms per call because it builds a data pipeline
each time. The default backend runs the same network exported to ONNX with
ONNX Runtime: well under a millisecond per image, thread-safe (`run` may be
called from many threads at once), and it does not import TensorFlow, so the app
starts in about a second. The Keras backend (a compiled `tf.function`) is the
fallback for a folder with no ONNX file and the reference the parity tests use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from model.files import ModelFileError, file_sha256, read_card, resolve_model_dir
from model.settings import SETTINGS

Backend = Literal["auto", "onnx", "keras"]

# Large inputs are cut into chunks so memory stays flat on 10,000+ images.
_CHUNK = 2048


class _Runner(Protocol):
    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def _onnx_runner(path: Path, threads: int | None = None) -> _Runner:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def run(batch: np.ndarray) -> np.ndarray:
        return session.run(None, {input_name: batch})[0]

    return run


def _keras_runner(path: Path) -> _Runner:
    import keras
    import tensorflow as tf

    network = keras.saving.load_model(path, compile=False, safe_mode=True)
    compiled = tf.function(lambda x: network(x, training=False), reduce_retracing=True)

    def run(batch: np.ndarray) -> np.ndarray:
        return compiled(tf.convert_to_tensor(batch)).numpy()

    return run


@dataclass
class Predictor:
    """A loaded model: `predict_proba` maps (N, 28, 28) floats in [0, 1] to (N, 10)."""

    model_dir: Path
    backend: str
    card: dict[str, Any]
    _run: _Runner = field(repr=False)
    # The short name of a registered model ("digit-cnn v3"), set by whoever resolved it.
    label: str | None = None

    @property
    def name(self) -> str:
        return self.card.get("name") or self.model_dir.name

    @property
    def test_accuracy(self) -> float | None:
        return self.card.get("test", {}).get("accuracy")

    def predict_proba(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of 28x28 images (N, 28, 28) or (N, 28, 28, 1)."""
        x = np.asarray(images, dtype=np.float32)
        size = SETTINGS.image_size
        if x.ndim == 2:
            x = x[None]
        if x.ndim == 3:
            x = x[..., None]
        if x.shape[1:] != (size, size, 1):
            raise ValueError(f"Expected images of shape (N, {size}, {size}), got {x.shape}.")
        if len(x) == 0:
            return np.zeros((0, SETTINGS.num_classes), np.float32)
        x = np.ascontiguousarray(x)
        parts = [self._run(x[i : i + _CHUNK]) for i in range(0, len(x), _CHUNK)]
        return np.concatenate(parts).astype(np.float32, copy=False)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The most probable digit of each image."""
        return self.predict_proba(images).argmax(axis=1)

    def fingerprint(self) -> str:
        """A hash of the weights file, for caches keyed by model content."""
        weights = self.model_dir / (SETTINGS.onnx_file if self.backend == "onnx"
                                    else SETTINGS.keras_file)
        return file_sha256(weights)


def load_predictor(path: str | Path | None = None, backend: Backend = "auto",
                   threads: int | None = None) -> Predictor:
    """Load a model folder (default: the shipped model) for fast inference.

    `backend="auto"` uses ONNX Runtime when the folder has `model.onnx`, else Keras.
    `threads` caps ONNX Runtime's threads per call (default: up to 4, one per core); a
    server that runs requests side by side wants 1, as its pool would fight them for cores.
    """
    model_dir = resolve_model_dir(path)
    onnx_path = model_dir / SETTINGS.onnx_file
    keras_path = model_dir / SETTINGS.keras_file
    if backend == "auto":
        backend = "onnx" if onnx_path.is_file() else "keras"
    chosen = onnx_path if backend == "onnx" else keras_path
    if not chosen.is_file():
        raise ModelFileError(f"{model_dir} has no {chosen.name} for the {backend} backend.")
    try:
        runner = (_onnx_runner(chosen, threads) if backend == "onnx"
                  else _keras_runner(chosen))
    except Exception as exc:  # a corrupt or foreign file: one sentence, not a traceback
        raise ModelFileError(f"The model file {chosen} cannot be loaded ({exc}).") from exc
    return Predictor(model_dir=model_dir, backend=backend, card=read_card(model_dir), _run=runner)
