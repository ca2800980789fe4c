"""30 people drawing on /draw at once, with the prediction log on.

    python -m tests.benchmarks.bench_crowd_draw [--sessions 30] [--digits 3] [--browsers]

Starts `streamlit run app.py` on loopback with its own monitoring store. By default each
person is a websocket session speaking the app's own protocol
(tests/benchmarks/st_client.py: what a browser sends, without a browser's CPU); each
opens /draw and draws `--digits` digits at a person's pace, clearing in between, and
mouse-up is timed to the delta carrying the prediction. With `--browsers`, each is a
Chromium context drawing with the mouse instead (tests/benchmarks/crowd.py), timed to
the prediction on screen: on a 2-core machine the browsers then use most of the CPU.
Reports failed sessions, digits answered and read right, how many reached the
prediction log under "draw" (each drawing is logged once), p50/p95/max, and the load
average. Targets: 0 failed sessions, p95 <= 1 s. It asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tests.benchmarks.crowd import draw_timed, install_probe, latency_summary, run_crowd
from tests.benchmarks.ws_crowd import (
    Meter,
    Pace,
    crowd,
    digit_sketches,
    draw_visitor,
    print_report,
)
from tests.browser import DIGIT_STROKES, streamlit_app

if TYPE_CHECKING:
    from playwright.async_api import Page

LABEL = "Prediction"
THINK_MS = 800  # a pause between digits, as a person takes
STAGGER_S = 0.2  # between the sessions' starts
LOG_SETTLE_S = 15.0  # the log's writer thread batches; wait this long for the count to settle


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


def _browsers(url: str, sessions: int, digits: int) -> int:
    """The crowd as Chromium contexts; prints its figures, returns the drawings shown."""
    started = time.perf_counter()
    results = run_crowd(url, sessions, lambda page, i: _session(page, url, i, digits))
    seconds = time.perf_counter() - started
    failed = [r for r in results if isinstance(r, BaseException)]
    times = [ms for r in results if not isinstance(r, BaseException) for ms in r]
    summary = latency_summary(times)
    print(f"  {len(failed)} failed sessions, {seconds:.0f} s; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for error in failed[:5]:
        print(f"    {type(error).__name__}: {str(error).splitlines()[0][:160]}")
    if times:
        print(f"  mouse-up to prediction on screen: p50 {summary['p50']:.0f} ms, p95 "
              f"{summary['p95']:.0f} ms, max {summary['max']:.0f} ms (n={summary['n']})")
    return len(times)


def _protocol(url: str, sessions: int, digits: int, pace: Pace) -> int:
    """The crowd as websocket sessions; prints its figures, returns the drawings answered."""
    sketches = [digit_sketches(i, digits) for i in range(sessions)]
    meter = Meter()
    started = time.perf_counter()
    logs = asyncio.run(crowd(sessions, lambda i: draw_visitor(url, i, sketches[i], pace),
                             STAGGER_S, meter))
    print_report(logs, time.perf_counter() - started, meter)
    return sum(len(log.answers) for log in logs)


def _logged(store: Path, expected: int) -> int:
    """Draw readings in the prediction log, once the server's writer has caught up."""
    from model.monitor_store import load_readings

    deadline, count = time.monotonic() + LOG_SETTLE_S, -1
    while time.monotonic() < deadline:
        count = sum(r.source == "draw" for r in load_readings(path=store))
        if count >= expected:
            break
        time.sleep(0.5)
    return count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--digits", type=int, default=3)
    parser.add_argument("--draw-s", type=float, default=Pace.draw_s,
                        help="seconds a person takes to draw a digit")
    parser.add_argument("--look-s", type=float, default=Pace.look_s,
                        help="seconds a person looks at the answer before the next digit")
    parser.add_argument("--browsers", action="store_true",
                        help="Chromium contexts drawing with the mouse instead of websockets")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-crowd-draw-"))
    store = folder / "monitor.db"
    os.environ["DIGIT_STUDIO_MONITOR_DB"] = str(store)
    os.environ.pop("DIGIT_STUDIO_MONITOR", None)
    client = "browser contexts" if args.browsers else "websocket protocol sessions"
    print(f"/draw: {args.sessions} {client} x {args.digits} digits at once "
          f"(load average before: {os.getloadavg()[0]:.1f})")
    with streamlit_app(folder / "server.log") as url:
        if args.browsers:
            shown = _browsers(url, args.sessions, args.digits)
        else:
            shown = _protocol(url, args.sessions, args.digits, Pace(args.draw_s, args.look_s))
        logged = _logged(store, shown)
    print(f"  prediction log: {logged} draw readings for {shown} drawings answered")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
