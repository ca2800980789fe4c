"""What the evaluation dashboard and the data explorer compute, and the caches that keep it.

The functions above the "Cached" line are plain NumPy (arrays in, arrays out) so tests call
them directly; the st.cache_data wrappers below it only load inputs and call them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st
from PIL import Image

from model import Predictor
from model.settings import SETTINGS
from training.data import Mnist, MnistError, load_mnist, prepare
from training.evaluate import predict_test_set

K = SETTINGS.num_classes
GALLERY_MAX = 30  # images per gallery; st.image with a list stays quick at this size
UPSCALE = 3  # 28 px digits are shown at 84 px
MAP_SAMPLE = 3000  # test images on the embedding map: enough for structure, light to draw
MAP_SEED = 0
NO_DATA = (
    "The MNIST files are not on this machine, so this page shows only what the model card "
    "recorded; set MNIST_DIR to a folder holding the four MNIST files "
    "(e.g. `export MNIST_DIR=/path/to/mnist`) and restart the app to explore the images."
)


# --- Selections over predictions -----------------------------------------------------------

@dataclass(frozen=True)
class Scored:
    """A model's probabilities for a labelled image set (the MNIST test set on the pages)."""

    images: np.ndarray  # (N, 28, 28) uint8
    labels: np.ndarray  # (N,) int
    proba: np.ndarray  # (N, 10)

    @functools.cached_property
    def pred(self) -> np.ndarray:
        return self.proba.argmax(axis=1)

    def caption(self, index: int) -> str:
        return top_k_caption(int(index), int(self.labels[index]), self.proba[index])


def cell_indices(y_true: np.ndarray, y_pred: np.ndarray, true_digit: int,
                 pred_digit: int) -> np.ndarray:
    """Indices of the images of digit `true_digit` predicted as `pred_digit`."""
    return np.flatnonzero((np.asarray(y_true) == true_digit) & (np.asarray(y_pred) == pred_digit))


def by_confidence(indices: np.ndarray, proba: np.ndarray, descending: bool = True) -> np.ndarray:
    """`indices` ordered by top probability (ties keep index order)."""
    confidence = proba[indices].max(axis=1)
    order = np.argsort(-confidence if descending else confidence, kind="stable")
    return np.asarray(indices)[order]


def most_confident_mistakes(y_true: np.ndarray, proba: np.ndarray, n: int) -> np.ndarray:
    """The `n` wrong predictions the model was surest of, surest first."""
    wrong = np.flatnonzero(proba.argmax(axis=1) != np.asarray(y_true))
    return by_confidence(wrong, proba, descending=True)[:n]


def least_confident_correct(y_true: np.ndarray, proba: np.ndarray, n: int) -> np.ndarray:
    """The `n` right predictions the model was least sure of, least sure first."""
    right = np.flatnonzero(proba.argmax(axis=1) == np.asarray(y_true))
    return by_confidence(right, proba, descending=False)[:n]


def random_indices(mask: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to `n` indices where `mask` holds, drawn without replacement, in ascending order."""
    candidates = np.flatnonzero(mask)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, size=min(n, len(candidates)), replace=False))


def disagreements(y_true: np.ndarray, pred_a: np.ndarray,
                  pred_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(images A gets right and B wrong, images B gets right and A wrong)."""
    right_a = np.asarray(pred_a) == y_true
    right_b = np.asarray(pred_b) == y_true
    return np.flatnonzero(right_a & ~right_b), np.flatnonzero(right_b & ~right_a)


SAMPLE_KINDS = ("Random mistakes", "Random correct", "Most confident mistakes",
                "Least confident correct")


def sample(scored: Scored, kind: str, n: int, seed: int) -> np.ndarray:
    """Up to `n` image indices of one of SAMPLE_KINDS (the random ones drawn with `seed`)."""
    right = scored.pred == scored.labels
    if kind == "Random correct":
        return random_indices(right, n, seed)
    if kind == "Most confident mistakes":
        return most_confident_mistakes(scored.labels, scored.proba, n)
    if kind == "Least confident correct":
        return least_confident_correct(scored.labels, scored.proba, n)
    if kind == "Random mistakes":
        return random_indices(~right, n, seed)
    raise ValueError(f"Unknown sample kind {kind!r}; expected one of {SAMPLE_KINDS}.")


def clicked_cell(event: Any) -> tuple[int, int] | None:
    """(true, predicted) of the confusion-matrix cell a plotly selection event points at."""
    points = (event or {}).get("selection", {}).get("points", [])
    for point in points:
        if "x" in point and "y" in point:
            return round(point["y"]), round(point["x"])
    return None


def picked_map_point(event: Any, labels: np.ndarray) -> int | None:
    """Position (in the map's sample) of the point a selection event on the map points at.

    The map draws one trace per digit, so trace d's point i is the i-th sample labelled d.
    (The point's customdata would be simpler, but Streamlit sends a 2-D customdata row
    as a dict keyed by column.)
    """
    points = (event or {}).get("selection", {}).get("points", [])
    for point in points:
        digit, i = point.get("curve_number"), point.get("point_index")
        if digit is not None and i is not None:
            members = np.flatnonzero(np.asarray(labels) == digit)
            if 0 <= i < len(members):
                return int(members[i])
    return None


def top_k_caption(index: int, true_digit: int, proba_row: np.ndarray, k: int = 3) -> str:
    """'#1234 · true 5 · 3 71% · 5 27% · 8 1%': an image's number, label and top-k guesses."""
    best = np.argsort(proba_row)[::-1][:k]
    guesses = " · ".join(f"{d} {proba_row[d]:.0%}" for d in best)
    return f"#{index} · true {true_digit} · {guesses}"


# --- Images and data statistics ------------------------------------------------------------

def tile(images: np.ndarray, scale: int = UPSCALE, pad: int = 2,
         background: int = 40) -> np.ndarray:
    """Compose a (rows, cols, H, W) block of uint8 images into one picture with gutters.

    One picture per grid keeps the page to a single image element however many digits
    it shows; nearest-neighbour scaling keeps each pixel a crisp square.
    """
    rows, cols, h, w = images.shape
    sheet = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), background, np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            sheet[y:y + h, x:x + w] = images[r, c]
    picture = Image.fromarray(sheet)
    return np.asarray(picture.resize((picture.width * scale, picture.height * scale),
                                     Image.Resampling.NEAREST))


def samples_per_digit(images: np.ndarray, labels: np.ndarray, per_digit: int,
                      seed: int) -> np.ndarray:
    """(10, per_digit, H, W): random examples of each digit, one row per digit."""
    rows = [images[random_indices(labels == d, per_digit, seed + d)] for d in range(K)]
    return np.stack(rows)


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(10, H, W) float: the average image of each digit (zeros for a digit with none)."""
    labels = np.asarray(labels)
    sums = np.stack([images[labels == d].sum(axis=0, dtype=np.float64) for d in range(K)])
    return sums / np.maximum(class_counts(labels), 1)[:, None, None]


def class_counts(labels: np.ndarray) -> np.ndarray:
    return np.bincount(np.asarray(labels, np.int64), minlength=K)


def pca_2d(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project rows onto their two main principal axes via SVD.

    Returns (coords (N, 2), share of the total variance each axis explains).
    """
    centred = np.asarray(features, np.float64) - np.mean(features, axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    variance = s**2
    return centred @ vt[:2].T, variance[:2] / max(variance.sum(), np.finfo(float).tiny)


def training_details(card: dict[str, Any]) -> dict[str, str]:
    """The model card's training facts as label -> text, skipping what the card lacks."""
    hp = card.get("hyperparameters", {})
    versions = card.get("versions", {})
    facts = {
        "created": card.get("created"),
        "epochs": (f"{card['epochs_run']} of {hp.get('epochs', '?')}, "
                   f"best {card.get('best_epoch', '?')}" if "epochs_run" in card else None),
        "training time": (f"{card['training_seconds'] / 60:.1f} min"
                          if "training_seconds" in card else None),
        "parameters": f"{card['parameters']:,}" if "parameters" in card else None,
        "trained on": (f"{card['data']['train']:,} images, {card['data']['validation']:,} held out"
                       if {"train", "validation"} <= card.get("data", {}).keys() else None),
        "hyperparameters": ", ".join(f"{k}={v}" for k, v in hp.items()) or None,
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()) or None,
    }
    return {label: str(text) for label, text in facts.items() if text is not None}


def per_class_rows(report: dict[str, Any], confused_with: list[int | None]) -> list[dict]:
    """One table row per digit from a classification report."""
    return [{"digit": int(d), "precision": m["precision"], "recall": m["recall"], "f1": m["f1"],
             "support": m["support"], "most confused with": confused_with[int(d)]}
            for d, m in report["per_class"].items()]


# --- Cached, for the pages -----------------------------------------------------------------

def available_mnist() -> tuple[Mnist | None, str | None]:
    """(MNIST, None) if a verified copy is on this machine, else (None, why not); never downloads.

    load_mnist keeps verified files in its own per-process cache, so this is cheap per rerun.
    """
    try:
        return load_mnist(download=False), None
    except MnistError as exc:
        return None, str(exc)


def data_key(mnist: Mnist) -> str:
    """The files' checksums: part of every cache key, so other data never hits stale entries."""
    return ",".join(mnist.checksums[name] for name in sorted(mnist.checksums))


def _mnist_for(key: str) -> Mnist:
    mnist, _ = available_mnist()
    if mnist is None or data_key(mnist) != key:
        raise MnistError("The MNIST files changed while the page was running; reload the page.")
    return mnist


@st.cache_data(show_spinner="Predicting the 10,000 test digits…", max_entries=8)
def test_set_proba(_predictor: Predictor, fingerprint: str, key: str) -> np.ndarray:
    """(10000, 10) probabilities of a model on the test set, once per model file and data.

    The cache is keyed by `fingerprint` (the weights' hash, `Predictor.fingerprint()`) and
    the data `key`; the leading underscore keeps Streamlit from hashing the predictor itself.
    """
    return predict_test_set(_predictor, _mnist_for(key).x_test)


@st.cache_data(show_spinner="Counting pixels…", max_entries=2)
def data_statistics(key: str) -> dict[str, np.ndarray]:
    """Class counts, mean images and the pixel-intensity histogram of the training set."""
    mnist = _mnist_for(key)
    return {"train_counts": class_counts(mnist.y_train), "test_counts": class_counts(mnist.y_test),
            "means": mean_images(mnist.x_train, mnist.y_train),
            "pixels": np.bincount(mnist.x_train.ravel(), minlength=256)}


@st.cache_data(show_spinner="Splitting as training does…", max_entries=4)
def split_counts(key: str, validation_split: float, seed: int,
                 limit: int | None) -> dict[str, np.ndarray]:
    """Images per digit in the train and validation parts that training.data.prepare makes."""
    splits = prepare(_mnist_for(key), validation_split=validation_split, seed=seed, limit=limit)
    return {"train": class_counts(splits.y_train), "validation": class_counts(splits.y_val),
            "test": class_counts(splits.y_test)}
