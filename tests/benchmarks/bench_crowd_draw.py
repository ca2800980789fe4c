"""30 people drawing on /draw at once, with the prediction log on.

    python -m tests.benchmarks.bench_crowd_draw [--sessions 30] [--digits 3]

Starts `streamlit run app.py` on loopback with its own monitoring store, then opens
`--sessions` browser contexts at once (one Chromium, tests/benchmarks/crowd.py); each
draws `--digits` digits with the mouse, clearing in between. Reports failed sessions,
mouse-up to the prediction on screen (p50, p95) and how many readings reached the
prediction log under "draw" (each drawing is logged once). Targets: 0 failed sessions,
p95 <= 1 s. Run it once, on an otherwise quiet machine; it asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.benchmarks.crowd import draw_timed, install_probe, latency_summary, run_crowd
from tests.browser import DIGIT_STROKES, streamlit_app

if TYPE_CHECKING:
    from playwright.async_api import Page

LABEL = "Prediction"
THINK_MS = 800  # a pause between digits, as a person takes


async def _session(page: Page, url: str, index: int, digits: int) -> list[float]:
    """Open /draw, draw `digits` digits (clearing between them); mouse-up-to-answer times."""
    order = list(DIGIT_STROKES)
    await page.goto(f"{url}/draw", wait_until="domcontentloaded")
    await page.locator("canvas.upper-canvas").wait_for()
    await install_probe(page, LABEL)
    times = []
    for k in range(digits):
        digit = order[(index + k) % len(order)]
        if k:
            await page.locator(".st-key-draw_clear button").click()
            await page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
                ".some((m) => m.textContent.trim() === '\u2013')")
            await install_probe(page, LABEL)
        await page.wait_for_timeout(THINK_MS)
        ms, value = await draw_timed(page, DIGIT_STROKES[digit])
        if value != str(digit):
            raise AssertionError(f"session {index} drew {digit}, the page read {value}")
        times.append(ms)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--digits", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-crowd-draw-"))
    store = folder / "monitor.db"
    os.environ["DIGIT_STUDIO_MONITOR_DB"] = str(store)
    os.environ.pop("DIGIT_STUDIO_MONITOR", None)
    with streamlit_app(folder / "server.log") as url:
        started = time.perf_counter()
        results = run_crowd(url, args.sessions,
                            lambda page, i: _session(page, url, i, args.digits))
        seconds = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    times = [ms for r in results if not isinstance(r, BaseException) for ms in r]
    summary = latency_summary(times)
    print(f"{args.sessions} sessions x {args.digits} digits in {seconds:.0f} s: "
          f"{len(failed)} failed sessions")
    for error in failed[:5]:
        print(f"  {type(error).__name__}: {str(error).splitlines()[0][:160]}")
    if times:
        print(f"mouse-up to prediction: p50 {summary['p50']:.0f} ms, p95 {summary['p95']:.0f} ms,"
              f" max {summary['max']:.0f} ms (n={summary['n']}; target p95 <= 1000 ms)")
    from model.monitor_store import load_readings

    logged = sum(r.source == "draw" for r in load_readings(path=store))
    print(f"prediction log: {logged} draw readings for {len(times)} drawings shown")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
