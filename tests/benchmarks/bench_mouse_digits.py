"""Other writers' digits drawn with the mouse on /draw.

`python -m tests.benchmarks.bench_mouse_digits [--per-digit 2] [--url URL]`.

How many pen-tablet digits by writers the model never saw does the Draw page read
right when they are drawn with the mouse in a real browser? Each digit is a USPS
*test* digit as a pen trajectory (`training.usps_tablet`: its skeleton walked as a pen
would, 8, 12 or 16 points joined by straight segments), dragged with the mouse along
those segments on the canvas of /draw ("One digit") in headless Chromium against
`streamlit run` on loopback; the "Prediction" shown is compared with the label. Two
digits of each class by default (`--per-digit`), seeded, never trained or tuned on.
Prints the count read right, the count read right and sure, and each miss.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from tests.browser import (
    chromium,
    draw,
    metric_value,
    new_tab,
    open_app,
    streamlit_app,
    wait_until_idle,
)
from training.realsets import CANVAS
from training.usps import load_usps
from training.usps_tablet import POINTS, tablet_points

SEED = 0
READ_TIMEOUT_MS = 15_000
# Between Clear and the next digit: the cleared canvas remounts, and a stroke begun
# before it has is wiped with it (a person takes longer than this to start again).
PAUSE_S = 1.0
Stroke = list[tuple[float, float]]


def pen_digits(per_digit: int, seed: int = SEED) -> list[tuple[int, list[Stroke]]]:
    """`per_digit` USPS test digits of each class as one mouse stroke in canvas fractions."""
    usps = load_usps("test")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in range(10):
        picks = rng.choice(np.flatnonzero(usps.labels == label), per_digit, replace=False)
        chosen += [(label, int(i)) for i in picks]
    digits = []
    for k, (label, index) in enumerate(chosen):
        points = tablet_points(usps.images[index], POINTS[k % len(POINTS)], rng) / CANVAS
        digits.append((label, [[(float(x), float(y)) for x, y in points]]))
    return digits


def run(per_digit: int, url: str | None = None) -> tuple[int, int, int]:
    """Draw each digit, read the page's answer; (right, right and sure, drawn)."""
    from playwright.sync_api import expect

    digits = pen_digits(per_digit)
    right = sure_right = 0
    with contextlib.ExitStack() as stack:
        if url is None:
            log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "server.log"
            url = stack.enter_context(streamlit_app(log))
        browser = stack.enter_context(chromium())
        context, page = new_tab(browser)
        open_app(page, url)
        prediction = metric_value(page, "Prediction")
        for number, (label, strokes) in enumerate(digits):
            draw(page, strokes)
            with contextlib.suppress(AssertionError):  # nothing read: a miss, said below
                expect(prediction).not_to_have_text("–", timeout=READ_TIMEOUT_MS)
            wait_until_idle(page)
            read = prediction.inner_text().strip()
            alerts = page.locator('[data-testid="stAlert"]')  # "not sure", or why not read
            unsure = alerts.count() > 0
            right += read == str(label)
            sure_right += read == str(label) and not unsure
            if read != str(label):
                said = " ".join(alerts.first.inner_text().split())[:80] if unsure else "sure"
                print(f"    #{number}, a {label}, read {read!r} ({said})")
            page.locator(".st-key-draw_clear button").click()
            expect(prediction).to_have_text("–")
            wait_until_idle(page)
            time.sleep(PAUSE_S)
        context.close()
    return right, sure_right, len(digits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-digit", type=int, default=2)
    parser.add_argument("--url", default=None, help="a running app instead of starting one")
    args = parser.parse_args(argv)
    right, sure_right, drawn = run(args.per_digit, args.url)
    print(f"USPS test digits as pen trajectories, drawn with the mouse on /draw: {right} of "
          f"{drawn} read right, {sure_right} of them sure (load average "
          f"{os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
