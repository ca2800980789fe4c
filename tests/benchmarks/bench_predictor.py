"""Predictor speed against plain Keras: `python -m tests.benchmarks.bench_predictor [--model DIR]`.

Everything is measured in one run on one network (the shipped model by default):
single-image latency of Keras `model.predict`, Keras `model(x)`, the Keras-backend
Predictor (a compiled tf.function) and the ONNX Predictor; throughput on the
10,000 MNIST test digits; and a thread-safety run. Targets are checked at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from model import Predictor, load_predictor
from model.files import ModelFileError, resolve_model_dir
from model.settings import SETTINGS
from training.data import MnistError, load_mnist, to_model_input

WARMUP = 5
SLOW_REPS = 30  # model.predict and eager calls cost tens of ms each
FAST_REPS = 1000
THREADS = 8
CALLS_PER_THREAD = 200
TARGET_SPEEDUP = 100.0  # p50(model.predict) / p50(ONNX predictor)
TARGET_THROUGHPUT_S = 0.5  # seconds for the 10,000 test digits


def latency_ms(call: Callable[[np.ndarray], Any], images: np.ndarray,
               reps: int) -> dict[str, float]:
    """p50/p90 wall time of single-image calls, cycling through different images."""
    for i in range(WARMUP):
        call(images[i : i + 1])
    times = []
    for i in range(reps):
        one = images[i % len(images)][None]
        started = time.perf_counter()
        call(one)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p90_ms": float(np.percentile(times, 90)),
            "reps": reps}


def throughput(predictor: Predictor, images: np.ndarray) -> dict[str, float]:
    """Best of three full passes over the test set (the first also warms up)."""
    predictor.predict_proba(images[:64])
    best = min(_timed(lambda: predictor.predict_proba(images)) for _ in range(3))
    return {"seconds": best, "images_per_s": len(images) / best}


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def thread_safety(predictor: Predictor, images: np.ndarray) -> dict[str, Any]:
    """THREADS threads, each making CALLS_PER_THREAD single-image calls on one predictor."""
    n = THREADS * CALLS_PER_THREAD
    serial = np.concatenate([predictor.predict_proba(images[i : i + 1]) for i in range(n)])

    def worker(t: int) -> np.ndarray:
        idx = range(t, n, THREADS)  # interleaved, so threads hit the session at once
        return np.stack([predictor.predict_proba(images[i : i + 1])[0] for i in idx])

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        parts = list(pool.map(worker, range(THREADS)))
    seconds = time.perf_counter() - started
    threaded = np.empty_like(serial)
    for t, part in enumerate(parts):
        threaded[t::THREADS] = part
    return {"threads": THREADS, "calls": n, "seconds": seconds,
            "max_abs_diff": float(np.abs(threaded - serial).max()),
            "identical": bool(np.array_equal(threaded, serial))}


def run(model_dir: Path, data_dir: str | None) -> dict[str, Any]:
    import keras

    mnist = load_mnist(data_dir)
    x = to_model_input(mnist.x_test)
    onnx = load_predictor(model_dir, backend="onnx")
    compiled = load_predictor(model_dir, backend="keras")
    network = keras.saving.load_model(model_dir / SETTINGS.keras_file, compile=False,
                                      safe_mode=True)
    latency = {
        "keras model.predict": latency_ms(lambda b: network.predict(b, verbose=0), x, SLOW_REPS),
        "keras model(x)": latency_ms(lambda b: network(b, training=False), x, SLOW_REPS),
        "predictor keras (tf.function)": latency_ms(compiled.predict_proba, x, FAST_REPS),
        "predictor onnx": latency_ms(onnx.predict_proba, x, FAST_REPS),
    }
    speedup = latency["keras model.predict"]["p50_ms"] / latency["predictor onnx"]["p50_ms"]
    return {
        "model": onnx.name, "model_dir": str(model_dir), "cpu_count": os.cpu_count(),
        "latency": latency, "speedup_predict_over_onnx": speedup,
        "throughput": {"predictor onnx": throughput(onnx, x),
                       "predictor keras (tf.function)": throughput(compiled, x)},
        "thread_safety": thread_safety(onnx, x),
    }


def checks(result: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, measured, passed) for each target."""
    speedup = result["speedup_predict_over_onnx"]
    onnx_s = result["throughput"]["predictor onnx"]["seconds"]
    safety = result["thread_safety"]
    return [
        (f"p50 model.predict / p50 ONNX >= {TARGET_SPEEDUP:.0f}x", f"{speedup:.0f}x",
         speedup >= TARGET_SPEEDUP),
        (f"10,000 test digits (ONNX) <= {TARGET_THROUGHPUT_S} s", f"{onnx_s:.3f} s",
         onnx_s <= TARGET_THROUGHPUT_S),
        (f"{THREADS} threads x {CALLS_PER_THREAD} calls equal serial",
         f"max diff {safety['max_abs_diff']:.1e}", safety["identical"]),
    ]


def report(result: dict[str, Any]) -> str:
    lines = [f"Model {result['model']} ({result['model_dir']}), {result['cpu_count']} CPUs", "",
             f"{'single image':<32}{'p50 ms':>10}{'p90 ms':>10}{'reps':>7}"]
    for name, m in result["latency"].items():
        lines.append(f"{name:<32}{m['p50_ms']:>10.3f}{m['p90_ms']:>10.3f}{m['reps']:>7}")
    lines += ["", f"{'10,000 test digits':<32}{'seconds':>10}{'images/s':>10}"]
    for name, m in result["throughput"].items():
        lines.append(f"{name:<32}{m['seconds']:>10.3f}{m['images_per_s']:>10.0f}")
    safety = result["thread_safety"]
    lines += ["", f"thread safety: {safety['calls']} calls on {safety['threads']} threads in "
                  f"{safety['seconds']:.2f} s", "", f"{'target':<48}{'measured':>16}  result"]
    for target, measured, ok in checks(result):
        lines.append(f"{target:<48}{measured:>16}  {'PASS' if ok else 'FAIL'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None,
                        help="model folder with model.keras and model.onnx (default: shipped)")
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    try:
        result = run(resolve_model_dir(args.model), args.data_dir)
    except (ModelFileError, MnistError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result["checks"] = [{"target": t, "measured": m, "passed": ok} for t, m, ok in checks(result)]
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0 if all(c["passed"] for c in result["checks"]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
