"""The whole reader scored on evaluation samples, shared by `training.realworld`, the
retraining gate, the shipped baseline and the tests.

- `reader_reading`: what the reader makes of one sample (a canvas as the Draw page
  reads it, anything else as `model.predict` reads a file), and whether it is sure;
- `score_reader`: the share of a set read exactly, and read exactly *and* sure (of
  scribbles: the share not sure), per true digit on request;
- `naive_read` and `score`: the "before", what a typical tutorial does with an upload;
- `usps_report`: the USPS digits as scans (`training.usps_pictures`) read in
  single-digit mode: accuracy, per digit, the precision of "sure" and the commonest
  confusions (the registry's USPS figure is its accuracy: `training.baseline.measure_usps`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import cv2
import numpy as np

from model import Predictor
from model.reader import ReadError, read_canvas, read_digits
from training.realsets import Sample
from training.usps_pictures import usps_samples

TOP_CONFUSIONS = 8


def naive_read(sample: Sample, predictor: Predictor) -> str:
    """The 'before': what a typical tutorial does with an upload.

    Invert, stretch the contrast so the paper is black and the darkest ink white, and
    squeeze the whole picture to 28x28: no cropping, centring or stroke handling.
    """
    image = sample.image
    if sample.canvas:
        grey = 255 - image[..., 3]
    else:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    ink = 255.0 - grey.astype(np.float32)
    paper = np.median(ink)
    ink = np.clip((ink - paper) / max(float(ink.max() - paper), 1.0), 0, 1)
    small = cv2.resize(ink, (28, 28), interpolation=cv2.INTER_AREA)
    return str(int(predictor.predict(small[None])[0]))


def reader_reading(sample: Sample, predictor: Predictor) -> tuple[str, bool]:
    """The reader's text and whether it is sure of every digit ("", False: nothing read)."""
    try:
        if sample.canvas:
            reading = read_canvas(sample.image, predictor)
        else:
            reading = read_digits(sample.image, predictor)
    except ReadError:
        reading = None
    return (reading.text, reading.sure) if reading else ("", False)


def read_single(sample: Sample, predictor: Predictor) -> tuple[str, bool]:
    """The reader's digit in single-digit mode, and whether it is sure ("", False: none)."""
    try:
        reading = read_digits(sample.image, predictor, single=True)
    except ReadError:
        return "", False
    return reading.text, reading.sure


def usps_report(predictor: Predictor, split: str = "test",
                limit: int | None = None) -> dict:
    """Accuracy, share sure, precision of sure, per-digit accuracy and top confusions."""
    samples = usps_samples(split, limit)
    readings = [read_single(s, predictor) for s in samples]
    truth = [s.text for s in samples]
    right = np.array([text == t for (text, _), t in zip(readings, truth, strict=True)])
    sure = np.array([flag for _, flag in readings])
    per_digit = {d: float(right[[t == d for t in truth]].mean())
                 for d in sorted(set(truth))}
    confusions = Counter((t, text or "none") for (text, _), t, ok
                         in zip(readings, truth, right, strict=True) if not ok)
    return {
        "n": len(samples), "reader": float(right.mean()),
        "sure": float((right & sure).mean()), "sure_share": float(sure.mean()),
        "sure_precision": float(right[sure].mean()) if sure.any() else 0.0,
        "sure_wrong": int((sure & ~right).sum()),
        "per_digit": per_digit,
        "confusions": [[t, r, c] for (t, r), c in confusions.most_common(TOP_CONFUSIONS)],
    }


def score(samples: list[Sample], read: Callable[[Sample, Predictor], str],
          predictor: Predictor) -> float:
    """The share of `samples` that `read` reads exactly."""
    return float(np.mean([read(s, predictor) == s.text for s in samples])) if samples else 0.0


def score_reader(samples: list[Sample], predictor: Predictor,
                 per_digit: bool = False) -> dict:
    """Share read exactly, share read exactly and sure, and how many were sure and
    wrong (of scribbles: share not sure); with `per_digit`, also the share read exactly
    of each true digit."""
    readings = [reader_reading(s, predictor) for s in samples]
    if samples and not samples[0].text:
        return {"rejected": float(np.mean([not sure for _, sure in readings]))}
    right = [text == s.text for (text, _), s in zip(readings, samples, strict=True)]
    result: dict = {
        "reader": float(np.mean(right)),
        "sure": float(np.mean([r and sure for r, (_, sure) in zip(right, readings,
                                                                   strict=True)])),
        "sure_wrong": sum(sure and not r for r, (_, sure) in zip(right, readings, strict=True))}
    if per_digit:
        truth, hits = np.array([s.text for s in samples]), np.array(right)
        result["per_digit"] = {str(d): float(hits[truth == d].mean()) for d in sorted(set(truth))}
    return result
