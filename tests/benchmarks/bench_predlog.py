"""What logging adds to a drawing: the prediction log's cost on the draw page's hot path.

    python -m tests.benchmarks.bench_predlog [--n 2000]

Times, on a real canvas drawing read by the shipped model:
- `log_reading` alone (the queue put the page pays; the writer thread does the rest);
- the page's whole addition (`reading_digest` for once-per-session logging + `log_reading`);
- `read_canvas` with logging on against off, interleaved, so the writer thread's share
  of the CPU shows up too. Target: at most 2 ms slower at p50. It asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np


def _canvas() -> np.ndarray:
    """A 280x280 RGBA canvas with a hand-drawn-looking 7."""
    import cv2

    rgba = np.zeros((280, 280, 4), np.uint8)
    points = np.array([[78, 56], [202, 56], [162, 140], [123, 235]], np.int32)
    cv2.polylines(rgba, [points], False, (0, 0, 0, 255), 18, cv2.LINE_AA)
    return rgba


def _ms(samples: list[float]) -> str:
    p50, p95 = np.percentile(samples, [50, 95])
    return f"p50 {p50 * 1000:.4f} ms, p95 {p95 * 1000:.4f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    os.environ["DIGIT_STUDIO_MONITOR_DB"] = os.path.join(tempfile.mkdtemp(), "bench.db")

    from model import load_predictor, monitor_store, predlog
    from model.reader import read_canvas
    from pages.common.monitoring import reading_digest

    predictor = load_predictor()
    rgba = _canvas()
    reading = read_canvas(rgba, predictor, single=True)
    enqueue, hook = [], []
    for _ in range(args.n):
        started = time.perf_counter()
        predlog.log_reading("draw", reading, latency_ms=5.0, model="shipped", session="bench")
        enqueue.append(time.perf_counter() - started)
        started = time.perf_counter()
        reading_digest(reading)
        predlog.log_reading("draw", reading, latency_ms=5.0, model="shipped", session="bench")
        hook.append(time.perf_counter() - started)
    predlog.flush(60)
    print(f"log_reading (enqueue):          {_ms(enqueue)}")
    print(f"page hook (digest + enqueue):   {_ms(hook)}")

    on, off = [], []
    for i in range(args.n // 4):
        for logging_on, bucket in ((True, on), (False, off))[:: 1 if i % 2 else -1]:
            started = time.perf_counter()
            found = read_canvas(rgba, predictor, single=True)
            if logging_on:
                reading_digest(found)
                predlog.log_reading("draw", found, latency_ms=5.0, model="shipped")
            bucket.append(time.perf_counter() - started)
    predlog.flush(60)
    slower = (np.median(on) - np.median(off)) * 1000
    print(f"read_canvas + logging:          {_ms(on)}")
    print(f"read_canvas, no logging:        {_ms(off)}")
    print(f"drawing slower at p50 by {slower:.3f} ms (target <= 2 ms); "
          f"{len(monitor_store.load_readings())} readings written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
