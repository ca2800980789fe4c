"""Monitoring figures from the prediction log: traffic, latency, "not sure", drift, feedback.

    python -m training.monitor report [--since 1h] [--json]
    python -m training.monitor prune --keep-days 30

``report`` answers ``{"requests", "by_source", "latency_ms": {"p50", "p95"},
"not_sure_share", "class_mix", "drift", "feedback": {"count", "accuracy"}, "alerts"}``
for the readings logged in the window. Drift is the population stability index
(PSI = sum((p - q) * ln(p / q)) over bins) of the digits read against MNIST's own
mix, and of the readings' confidences against the model's confidences on the
MNIST test digits. The alert lines are in ``model.settings.SETTINGS``. The Monitor
page calls the same functions.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from model import feedback
from model.monitor_store import SOURCES, LoggedReading, load_readings, prune
from model.settings import SETTINGS

# Digits per class in MNIST's 60,000 training images: the mix the model learnt.
MNIST_TRAIN_COUNTS = np.array([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
MNIST_MIX = MNIST_TRAIN_COUNTS / MNIST_TRAIN_COUNTS.sum()
# Confidence bins: fine near 1, where a good model puts most of its answers.
CONFIDENCE_EDGES = np.array([0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0001])
PSI_FLOOR = 1e-4  # an empty bin counts as this share, or PSI would be infinite
MIN_FOR_DRIFT = 20  # fewer digits than this give no drift figure (too noisy to mean much)
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
WINDOWS = {"last hour": 3600, "last day": 86_400, "last week": 604_800, "all": None}


def parse_span(text: str) -> float | None:
    """"10m", "1h", "2d", "1w" -> seconds; "all" -> None. ValueError with one sentence."""
    text = text.strip().lower()
    if text == "all":
        return None
    match = _SPAN.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a time span; write e.g. 30s, 10m, 1h, 2d, 1w or all.")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def psi(actual: np.ndarray, expected: np.ndarray) -> float:
    """Population stability index of two histograms (counts or shares over the same bins)."""
    p = np.asarray(actual, float)
    q = np.asarray(expected, float)
    p = np.maximum(p / max(p.sum(), 1e-12), PSI_FLOOR)
    q = np.maximum(q / max(q.sum(), 1e-12), PSI_FLOOR)
    return float(np.sum((p - q) * np.log(p / q)))


def confidence_histogram(confidences: np.ndarray) -> np.ndarray:
    return np.histogram(np.asarray(confidences, float), CONFIDENCE_EDGES)[0]


_REFERENCE: dict[str, np.ndarray | None] = {}


def reference_confidences() -> np.ndarray | None:
    """The shipped model's confidence histogram on the MNIST test digits (None without MNIST).

    Computed once per process (10,000 digits through ONNX Runtime: well under a second).
    """
    if "histogram" not in _REFERENCE:
        try:
            from model import load_predictor
            from training.data import load_mnist, to_model_input

            mnist = load_mnist(download=False)
            proba = load_predictor().predict_proba(to_model_input(mnist.x_test))
            _REFERENCE["histogram"] = confidence_histogram(proba.max(axis=1))
        except Exception:  # no MNIST here: the confidence drift is simply not reported
            _REFERENCE["histogram"] = None
    return _REFERENCE["histogram"]


def frame(readings: Sequence[LoggedReading]) -> pd.DataFrame:
    """One row per reading: time (UTC), source, model, latency, digits, sure."""
    columns = list(LoggedReading._fields)
    df = pd.DataFrame(list(readings), columns=columns)
    df["when"] = pd.to_datetime(df["time"], unit="s", utc=True)
    return df


def _percentiles(values: np.ndarray) -> dict[str, float | None]:
    if not len(values):
        return {"p50": None, "p95": None}
    p50, p95 = np.percentile(values, [50, 95])
    return {"p50": round(float(p50), 3), "p95": round(float(p95), 3)}


def class_counts(df: pd.DataFrame) -> np.ndarray:
    digits = [d for row in df["digits"] for d in row] if len(df) else []
    return np.bincount(np.asarray(digits, np.int64), minlength=SETTINGS.num_classes)


def drift(df: pd.DataFrame, reference: np.ndarray | None = None) -> dict[str, Any]:
    """PSI of the digits read vs MNIST's mix and of their confidences vs the reference."""
    counts = class_counts(df)
    confidences = np.asarray([c for row in df["confidences"] for c in row] if len(df) else [])
    enough = counts.sum() >= MIN_FOR_DRIFT
    reference = reference_confidences() if reference is None and enough else reference
    return {
        "digits": int(counts.sum()),
        "class_psi": round(psi(counts, MNIST_MIX), 4) if enough else None,
        "confidence_psi": (round(psi(confidence_histogram(confidences), reference), 4)
                           if enough and reference is not None else None),
    }


def alerts(summary: dict[str, Any]) -> list[str]:
    """One sentence per threshold crossed (thresholds in model.settings)."""
    found = []
    limit = SETTINGS.alert_drift_psi
    for key, what in (("class_psi", "The mix of digits read"),
                      ("confidence_psi", "The confidence of the readings")):
        value = summary["drift"].get(key)
        if value is not None and value > limit:
            found.append(f"{what} has drifted from MNIST's (PSI {value:.2f} > {limit}).")
    share = summary["not_sure_share"]
    if share is not None and summary["requests"] >= MIN_FOR_DRIFT and (
            share > SETTINGS.alert_not_sure_share):
        found.append(f"{share:.0%} of the readings are 'not sure' "
                     f"(alert above {SETTINGS.alert_not_sure_share:.0%}).")
    p95 = summary["latency_ms"]["p95"]
    if p95 is not None and p95 > SETTINGS.alert_latency_p95_ms:
        found.append(f"Latency p95 is {p95:.0f} ms (alert above "
                     f"{SETTINGS.alert_latency_p95_ms:.0f} ms).")
    return found


def summarise(df: pd.DataFrame, since_s: float | None = None,
              reference: np.ndarray | None = None) -> dict[str, Any]:
    """The report's figures for the readings in `df` (feedback: answers in the same window)."""
    by_source = {}
    for source in [s for s in SOURCES if s in set(df["source"])] + sorted(
            set(df["source"]) - set(SOURCES)):
        part = df[df["source"] == source]
        by_source[source] = {"requests": len(part),
                             "latency_ms": _percentiles(part["latency_ms"].to_numpy())}
    counts = class_counts(df)
    answered = df[df["digits"].map(len) > 0]
    since = None if since_s is None else time.time() - since_s
    answers = feedback.accuracy_by_model(since=since)
    count = sum(a["count"] for a in answers)
    summary = {
        "window_s": since_s,
        "requests": len(df),
        "by_source": by_source,
        "latency_ms": _percentiles(df["latency_ms"].to_numpy()),
        "not_sure_share": (round(float(1 - answered["sure"].mean()), 4) if len(answered)
                           else None),
        "class_mix": {str(d): round(float(c / max(counts.sum(), 1)), 4)
                      for d, c in enumerate(counts)},
        "drift": drift(df, reference),
        "feedback": {"count": count,
                     "accuracy": (round(sum(a["accuracy"] * a["count"] for a in answers) / count,
                                        4) if count else None),
                     "by_model": answers},
    }
    summary["alerts"] = alerts(summary)
    return summary


def window(since_s: float | None = None) -> pd.DataFrame:
    """The readings of the last `since_s` seconds (None: everything) as a frame."""
    return frame(load_readings(None if since_s is None else time.time() - since_s))


def report(since_s: float | None = None) -> dict[str, Any]:
    """The summary of the log over the last `since_s` seconds (None: everything)."""
    return summarise(window(since_s), since_s)


def timeline(df: pd.DataFrame, bucket: str) -> pd.DataFrame:
    """Per time bucket ("1min", "15min", ...) and source: requests, latency p50/p95, not sure."""
    if not len(df):
        return pd.DataFrame(columns=["when", "source", "requests", "p50", "p95", "not_sure"])
    df = df.assign(not_sure=~df["sure"].astype(bool) & (df["digits"].map(len) > 0),
                   when=df["when"].dt.floor(bucket))
    grouped = df.groupby(["when", "source"])
    out = grouped.agg(requests=("time", "size"),
                      p50=("latency_ms", lambda s: s.quantile(0.5)),
                      p95=("latency_ms", lambda s: s.quantile(0.95)),
                      not_sure=("not_sure", "mean")).reset_index()
    return out[out["requests"] > 0]


BUCKETS_MIN = (1, 5, 15, 60, 120, 360, 1440)  # time-bucket sizes to choose from, minutes
TARGET_BUCKETS = 90  # about this many buckets across a chart


def bucket_minutes(df: pd.DataFrame, window_s: float | None) -> int:
    """A bucket size that puts about TARGET_BUCKETS buckets across the window (or the data)."""
    span_s = window_s if window_s is not None else (
        float(df["time"].max() - df["time"].min()) if len(df) else 3600.0)
    wanted = span_s / 60 / TARGET_BUCKETS
    return next((m for m in BUCKETS_MIN if m >= wanted), BUCKETS_MIN[-1])


def time_range(window_s: float | None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The window's start and end (UTC) for a chart's time axis; None for "all"."""
    if window_s is None:
        return None
    end = pd.Timestamp.now(tz="UTC")
    return end - pd.Timedelta(seconds=window_s), end


def not_sure_over_time(df: pd.DataFrame, bucket: str) -> pd.DataFrame:
    """Per time bucket: the share of readings (with digits) flagged "not sure"."""
    answered = df[df["digits"].map(len) > 0] if len(df) else df
    if not len(answered):
        return pd.DataFrame(columns=["when", "not_sure"])
    unsure = ~answered["sure"].astype(bool)
    return unsure.groupby(answered["when"].dt.floor(bucket)).mean().rename(
        "not_sure").reset_index()


def _print_report(summary: dict[str, Any]) -> None:
    lat = summary["latency_ms"]
    print(f"{summary['requests']} readings; latency p50 {lat['p50']} ms, p95 {lat['p95']} ms")
    for source, part in summary["by_source"].items():
        print(f"  {source:8s} {part['requests']:6d}  p50 {part['latency_ms']['p50']} ms  "
              f"p95 {part['latency_ms']['p95']} ms")
    print(f"not sure: {summary['not_sure_share']}; drift: {summary['drift']}")
    fb = summary["feedback"]
    print(f"feedback: {fb['count']} answers, model right in {fb['accuracy']}")
    for line in summary["alerts"]:
        print(f"ALERT: {line}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.monitor",
                                     description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rep = commands.add_parser("report", help="figures for a time window")
    rep.add_argument("--since", default="all", help="window: 30s, 10m, 1h, 2d, 1w or all")
    rep.add_argument("--json", action="store_true", help="one JSON object")
    cut = commands.add_parser("prune", help="delete readings older than --keep-days")
    cut.add_argument("--keep-days", type=float, required=True)
    args = parser.parse_args(argv)
    try:
        if args.command == "prune":
            if args.keep_days < 0:
                raise ValueError("--keep-days must be 0 or more.")
            print(f"Deleted {prune(args.keep_days)} readings older than {args.keep_days:g} days "
                  f"from {SETTINGS.monitor_db}.")
            return 0
        summary = report(parse_span(args.since))
    except Exception as exc:  # a bad span or an unusable store: one sentence
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        _print_report(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
