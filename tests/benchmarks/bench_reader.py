"""Reader speed and accuracy on synthetic pages: `python -m tests.benchmarks.bench_reader`.

Speed: wall time of `read_canvas` on a 280x280 canvas (target <= 10 ms for
preprocessing and inference together), `read_digits` on a 640x480 phone-like
photo of a 4-digit number and on a 12 MP photo of one digit (decoding included).
Accuracy: real MNIST test digits (model errors included) written as scans, pen
drawings, canvas drawings, multi-digit numbers and touching pairs; the raw model's
accuracy on the same 28x28 digits is printed alongside.
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable

import numpy as np
from PIL import Image

from model import load_predictor
from model.reader import ReadError, read_canvas, read_digits
from training.data import load_mnist
from training.synthetic_scans import (
    PageStyle,
    PhotoStyle,
    canvas_rgba,
    compose_page,
    photograph,
    render_digit,
    touching_pair,
)

TARGET_CANVAS_MS = 10.0


def wall_ms(call: Callable[[], object], reps: int) -> float:
    """Median wall time of `reps` calls after two warm-up calls."""
    call()
    call()
    times = []
    for _ in range(reps):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return float(np.median(times))


def _text(call: Callable[[], object]) -> str:
    try:
        reading = call()
    except ReadError as exc:
        return str(exc)
    return "" if reading is None else reading.text


def accuracy(mnist, predictor, n: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    x, y = mnist.x_test, mnist.y_test
    results: dict[str, list[bool]] = {k: [] for k in
                                      ("scan", "pen", "canvas", "number", "two rows", "touching")}
    for _ in range(n):
        i = int(rng.integers(len(y)))
        height = int(rng.integers(28, 260))
        photo = PhotoStyle(tilt_deg=float(rng.uniform(-5, 5)), shading=float(rng.uniform(0, .35)),
                           noise=float(rng.uniform(0, .04)), blur=float(rng.uniform(0, 1)),
                           jpeg_quality=int(rng.integers(50, 95)))
        for kind, pen in (("scan", None), ("pen", float(rng.uniform(.02, .08)) * height)):
            style = PageStyle(digit_height=height, pen=pen, margin=float(rng.uniform(.05, 1)),
                              ink=float(rng.uniform(0, .45)), paper=float(rng.uniform(.75, 1)))
            image = photograph(compose_page([[x[i]]], style, rng)[0], photo, rng)
            results[kind].append(_text(lambda im=image: read_digits(im, predictor)) == str(y[i]))
        rgba = canvas_rgba(x[i], brush=float(rng.uniform(8, 30)), fill=float(rng.uniform(.4, .85)))
        results["canvas"].append(_text(lambda c=rgba: read_canvas(c, predictor)) == str(y[i]))
    for kind, rows in (("number", 1), ("two rows", 2)):
        for _ in range(n // 3):
            lines = [rng.integers(len(y), size=int(rng.integers(3, 7))) for _ in range(rows)]
            height = int(rng.integers(28, 120))
            pen = None if rng.random() < .5 else float(rng.uniform(.02, .08)) * height
            page, _ = compose_page([[x[j] for j in line] for line in lines],
                                   PageStyle(digit_height=height, pen=pen,
                                             gap=float(rng.uniform(.1, .5))), rng)
            image = photograph(page, PhotoStyle(tilt_deg=float(rng.uniform(-3, 3)),
                                                shading=float(rng.uniform(0, .3)),
                                                noise=float(rng.uniform(0, .03)),
                                                jpeg_quality=85), rng)
            truth = " ".join("".join(str(y[j]) for j in line) for line in lines)
            results[kind].append(_text(lambda im=image: read_digits(im, predictor)) == truth)
    for _ in range(n // 3):
        a, b = rng.integers(len(y), size=2)
        page = touching_pair(render_digit(x[a], 80), render_digit(x[b], 80), overlap=1)
        results["touching"].append(_text(lambda p=page: read_digits(p, predictor))
                                   == f"{y[a]}{y[b]}")
    return {k: float(np.mean(v)) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model folder (default: shipped)")
    parser.add_argument("--n", type=int, default=300, help="single digits per kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    predictor = load_predictor(args.model)
    mnist = load_mnist()

    rgba = canvas_rgba(mnist.x_test[0])
    canvas = wall_ms(lambda: read_canvas(rgba, predictor), 200)
    page, _ = compose_page([[mnist.x_test[i] for i in range(4)]], PageStyle(digit_height=110))
    photo = np.asarray(Image.fromarray(photograph(page, PhotoStyle(
        shading=.3, noise=.03, jpeg_quality=85))).resize((640, 480)))
    big, _ = compose_page([[mnist.x_test[0]]], PageStyle(digit_height=2400, pen=150))
    jpeg = io.BytesIO()
    Image.fromarray(big).resize((4000, 3000)).save(jpeg, format="JPEG", quality=90)
    print(f"read_canvas 280x280:           {canvas:7.2f} ms  (target <= {TARGET_CANVAS_MS} ms)")
    photo_ms = wall_ms(lambda: read_digits(photo, predictor), 50)
    print(f"read_digits 640x480 4 digits:  {photo_ms:7.2f} ms")
    print(f"read_digits 12 MP JPEG bytes:  "
          f"{wall_ms(lambda: read_digits(jpeg.getvalue(), predictor), 5):7.2f} ms")

    raw = np.mean(predictor.predict(mnist.x_test / 255.0) == mnist.y_test)
    print(f"\nraw model on the 28x28 test digits: {raw:.4f}")
    for kind, value in accuracy(mnist, predictor, args.n, args.seed).items():
        print(f"{kind:10s} {value:.4f}")


if __name__ == "__main__":
    main()
