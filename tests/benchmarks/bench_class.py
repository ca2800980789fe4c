"""A class of 30 drawing at once: `python -m tests.benchmarks.bench_class [--students 30]`.

Starts `streamlit run app.py` on loopback (its own class store in a temporary folder)
and a class session. By default each student is a websocket session speaking the
app's own protocol (tests/benchmarks/st_client.py: what a browser sends, without a
browser's CPU): it opens /class, types the code into the join form (`--join link`:
opens the join link), and once the whole class is in, draws `--digits` digits at a
person's pace, taps the digit it meant and sends each, while the teacher's board is
open and reruns its live fragment every 2 s. With `--browsers`, the students and the
teacher are Chromium contexts (one Chromium, tests/benchmarks/crowd.py) drawing with
the mouse. Reports failed sessions (a student who could not finish), digits lost
(sent but not in the class store, or not counted on the board), and mouse-up to the
model's answer (the delta carrying it, or on screen with browsers; p50, p95, max),
with the load average. Run it once, on an otherwise quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from model.classroom import ClassStore
from tests.benchmarks.crowd import (
    draw_timed,
    install_probe,
    latency_summary,
    run_crowd,
)
from tests.benchmarks.ws_crowd import (
    Meter,
    Pace,
    barrier,
    class_student,
    class_teacher,
    crowd,
    digit_sketches,
    print_report,
)
from tests.browser import DIGIT_STROKES, streamlit_app

if TYPE_CHECKING:
    from playwright.async_api import Page

READS = "The model reads"
BOARD_POLL_S = 1.0
THINK_MS = 1000  # a student's pause before the next digit
JOIN_STAGGER_S = 1.0  # a class opens the link over half a minute, not in one instant
JOIN_TIMEOUT_MS = 300_000
# True when the canvas's drawing layer is one flat colour: no ink on it. (The canvas
# lives in a shadow root, so this runs on the element Playwright's locator finds.)
CANVAS_EMPTY = """(canvas) => {
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  for (let i = 4; i < pixels.length; i++) if (pixels[i] !== pixels[i % 4]) return false;
  return true;
}"""
CANVAS_POLL_MS = 250
BOARD_GRACE_S = 20.0  # the board refreshes every 2 s; a busy machine may need longer


async def _canvas_empty(page: Page) -> None:
    """Wait until the canvas shows no ink (it clears itself after a send)."""
    layer = page.locator("canvas.dc-canvas.lower-canvas")
    deadline = time.monotonic() + JOIN_TIMEOUT_MS / 1000
    while not await layer.evaluate(CANVAS_EMPTY):
        if time.monotonic() > deadline:
            raise TimeoutError("the canvas did not clear after a send")
        await page.wait_for_timeout(CANVAS_POLL_MS)


async def _student(page: Page, url: str, code: str, index: int, digits: int,
                   tally: dict[str, int], everyone_in: asyncio.Event) -> list[float]:
    """Join, wait for the whole class, then draw, label and send `digits` digits; the
    mouse-up-to-answer times."""
    order = list(DIGIT_STROKES)
    started = time.perf_counter()
    try:
        await page.goto(f"{url}/class?code={code}", wait_until="domcontentloaded",
                        timeout=JOIN_TIMEOUT_MS)
        await page.get_by_role("heading", name=f"Class {code}").wait_for(
            timeout=JOIN_TIMEOUT_MS)
        await page.locator("canvas.upper-canvas").wait_for(timeout=JOIN_TIMEOUT_MS)
        tally["join_ms"].append((time.perf_counter() - started) * 1e3)
    finally:
        tally["joined"] += 1
        if tally["joined"] == tally["students"]:
            everyone_in.set()
    await install_probe(page, READS)
    await asyncio.wait_for(everyone_in.wait(), JOIN_TIMEOUT_MS / 1000)
    times = []
    for k in range(digits):
        digit = order[(index + k) % len(order)]
        # The canvas empties itself after a send; a stroke begun before it has would be
        # wiped, so draw on the empty canvas, after a student's pause.
        await page.get_by_text("Draw one digit in the box").wait_for()
        await _canvas_empty(page)
        await page.wait_for_timeout(THINK_MS)
        ms, _ = await draw_timed(page, DIGIT_STROKES[digit])
        times.append(ms)
        await page.locator(f".st-key-class_label_{k}").get_by_role(
            "radio", name=str(digit), exact=True).click()
        await page.locator(".st-key-class_send button").click()
        await page.get_by_text(f"Sent: you drew a {digit}").wait_for()
        tally["sent"] += 1
    return times


async def _teacher(page: Page, url: str, code: str, key: str, expected: int,
                   finished: list[int], students: int) -> int:
    """Keep the board open until it counts `expected` digits, or until every student has
    finished (or failed) and the board has had BOARD_GRACE_S to catch up; its last count."""
    await page.goto(f"{url}/class?board={code}&key={key}", wait_until="domcontentloaded")
    value = page.locator('[data-testid="stMetric"]').filter(has_text="Digits drawn").locator(
        '[data-testid="stMetricValue"]')
    shown, all_done_at = -1, None
    while shown < expected:
        if await value.count():
            shown = int((await value.first.inner_text()).replace(",", ""))
        if all_done_at is None and len(finished) == students:
            all_done_at = time.monotonic()
        if all_done_at is not None and time.monotonic() - all_done_at > BOARD_GRACE_S:
            break
        await page.wait_for_timeout(BOARD_POLL_S * 1000)
    return shown


def _browsers(students: int, digits: int, url: str, store: ClassStore,
              shots: Path | None = None) -> int:
    """The class as Chromium contexts; prints its figures, returns the failed sessions."""
    session = store.start()
    expected = students * digits

    finished: list[int] = []
    tally = {"sent": 0, "joined": 0, "students": students, "join_ms": []}
    everyone_in = asyncio.Event()

    async def visit(page: Page, i: int):
        if i == 0:
            return await _teacher(page, url, session.code, session.teacher_key, expected,
                                  finished, students)
        try:
            return await _student(page, url, session.code, i - 1, digits, tally, everyone_in)
        except BaseException:
            if shots:
                await page.screenshot(path=shots / f"failed_student_{i}.png", full_page=True)
            raise
        finally:
            finished.append(i)

    started = time.perf_counter()
    results = run_crowd(url, students + 1, visit, stagger_s=JOIN_STAGGER_S)
    seconds = time.perf_counter() - started
    board_count, outcomes = results[0], results[1:]
    failed = [r for r in outcomes if isinstance(r, BaseException)]
    times = [ms for r in outcomes if not isinstance(r, BaseException) for ms in r]
    stored = len(store.digits(session.code))
    summary = latency_summary(times)
    print(f"{students} students x {digits} digits at once, {seconds:.0f} s in all; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  failed sessions: {len(failed)}")
    for error in failed[:5]:
        print(f"    {type(error).__name__}: {str(error).splitlines()[0][:200]}")
    joins = latency_summary(tally["join_ms"])
    print(f"  digits sent {tally['sent']}, stored {stored}, counted on the teacher's board "
          f"{board_count}")
    if joins["n"]:
        print(f"  joining (link opened to canvas ready), joins {JOIN_STAGGER_S:g} s apart: "
              f"p50 {joins['p50'] / 1000:.1f} s, max {joins['max'] / 1000:.1f} s")
    if summary["n"]:
        print(f"  mouse-up -> the model's answer on screen, {summary['n']} digits: "
              f"p50 {summary['p50']:.0f} ms, p95 {summary['p95']:.0f} ms, "
              f"max {summary['max']:.0f} ms")
    return len(failed)


def _protocol(students: int, digits: int, url: str, store: ClassStore, pace: Pace,
              by_code: bool, stagger_s: float) -> int:
    """The class as websocket sessions; prints its figures, returns the failed sessions."""
    session = store.start()
    expected = students * digits
    sketches = [digit_sketches(i, digits) for i in range(students)]
    everyone_in, done, meter = barrier(students), [], Meter()

    async def student(i: int):
        try:
            return await class_student(url, session.code, i, sketches[i], pace, everyone_in,
                                       by_code)
        finally:
            done.append(i)

    async def lesson():
        teacher = asyncio.create_task(class_teacher(
            url, session.code, session.teacher_key, expected,
            lambda: len(done) == students, BOARD_GRACE_S))
        logs = await crowd(students, student, stagger_s, meter)
        board = (await asyncio.gather(teacher, return_exceptions=True))[0]
        return logs, board

    started = time.perf_counter()
    logs, board = asyncio.run(lesson())
    print_report(logs, time.perf_counter() - started, meter)
    sent = sorted(pair for log in logs for pair in log.sent)
    kept = sorted((d.label, d.predicted) for d in store.digits(session.code))
    counted = (f"the teacher's board failed: {board}" if isinstance(board, BaseException)
               else f"counted on the teacher's board {board}")
    print(f"  digits sent {len(sent)}, stored {len(kept)} (label and answer as sent: "
          f"{'all' if kept == sent else 'NOT all'}), {counted}")
    return sum(log.error is not None for log in logs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--digits", type=int, default=3, help="digits each student draws")
    parser.add_argument("--url", default=None, help="a running app (default: start one)")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="a folder for screenshots of failed sessions (--browsers)")
    parser.add_argument("--draw-s", type=float, default=Pace.draw_s,
                        help="seconds a student takes to draw a digit")
    parser.add_argument("--look-s", type=float, default=Pace.look_s,
                        help="seconds a student looks at the answer before tapping and sending")
    parser.add_argument("--join", choices=("code", "link"), default="code",
                        help="type the code into the join form, or open the join link")
    parser.add_argument("--stagger", type=float, default=JOIN_STAGGER_S,
                        help="seconds between two students' joins")
    parser.add_argument("--browsers", action="store_true",
                        help="Chromium contexts drawing with the mouse instead of websockets")
    args = parser.parse_args(argv)

    def bench(url: str, store: ClassStore) -> int:
        client = "browser contexts" if args.browsers else "websocket protocol sessions"
        print(f"/class: {args.students} students as {client} x {args.digits} digits "
              f"(load average before: {os.getloadavg()[0]:.1f})")
        if args.browsers:
            return _browsers(args.students, args.digits, url, store, args.screenshots)
        return _protocol(args.students, args.digits, url, store,
                         Pace(args.draw_s, args.look_s), args.join == "code", args.stagger)

    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "monitor.db"
        os.environ["DIGIT_STUDIO_MONITOR_DB"] = str(db)  # the server inherits it
        store = ClassStore(db)
        if args.url:
            return int(bench(args.url, ClassStore()) > 0)
        with streamlit_app(Path(folder) / "server.log") as url:
            return int(bench(url, store) > 0)


if __name__ == "__main__":
    sys.exit(main())
