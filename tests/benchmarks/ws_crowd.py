"""Many people drawing at once, each a websocket session of the app (tests/benchmarks/st_client.py).

    logs = asyncio.run(crowd(30, lambda i: draw_visitor(url, i, sketches[i], pace), 0.2, meter))

`draw_visitor` opens /draw and draws its digits (mouse-up = the canvas's value sent,
as the page's quick sender does; Clear between digits); `class_student` opens /class,
joins with the code (typed into the join form, or the link), waits for the whole class,
then draws, taps the digit it meant and sends each; `class_teacher` keeps the board
open, rerunning its live fragment as the browser does. Every session records mouse-up
to the prediction's delta, and one that cannot finish is a failed session with its
reason. Drawings are built before the crowd starts (`digit_sketches`), so building
PNGs does not steal the client's time while sessions wait for answers.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from tests.benchmarks.canvas_value import DIGIT_SHAPES, canvas_state, empty_canvas_state
from tests.benchmarks.procstat import children, cpu_seconds
from tests.benchmarks.st_client import AppError, AppSession

DRAW_CANVAS = "draw_canvas_280x280"
DRAW_METRIC = "Prediction"
CLASS_CANVAS = "class_canvas"
CLASS_METRIC = "The model reads"
NO_READING = "\u2013"  # the draw page's metric before any ink is read
LOAD_EVERY_S = 2.0
Sketch = tuple[int, str]  # (the digit meant, the canvas's value after its last stroke)


@dataclass
class Pace:
    """A person's pace: seconds to draw a digit and to look at the answer, varied ± spread."""

    draw_s: float = 1.5
    look_s: float = 2.0
    spread: float = 0.3

    def pause(self, seconds: float, rng: np.random.Generator) -> float:
        return max(0.0, seconds * (1 + rng.uniform(-self.spread, self.spread)))


@dataclass
class Meter:
    """The machine while a crowd runs: 1-minute load averages, and the CPU seconds the
    server (this process's child, `streamlit run`) used meanwhile."""

    load: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0


@dataclass
class SessionLog:
    """What one session did; `error` is why it could not finish (None: it did)."""

    index: int
    join_ms: float | None = None
    drawn: int = 0  # drawings sent (mouse-ups)
    times_ms: list[float] = field(default_factory=list)  # mouse-up -> prediction delta
    answers: list[tuple[int, str | None]] = field(default_factory=list)  # (drawn, read)
    sent: list[tuple[int, int]] = field(default_factory=list)  # to the class: (label, read)
    error: str | None = None

    @property
    def right(self) -> int:
        return sum(read == str(drawn) for drawn, read in self.answers)


def digit_sketches(index: int, digits: int, seed: int = 0) -> list[Sketch]:
    """Session `index`'s digits (each session starts elsewhere in 0-9), a hand's wobble each."""
    rng = np.random.default_rng([seed, index])
    chosen = [(index * 3 + k) % 10 for k in range(digits)]
    return [(d, canvas_state(DIGIT_SHAPES[d], rng=rng)) for d in chosen]


async def _draw(session: AppSession, key: str, metric: str, sketch: Sketch,
                log: SessionLog) -> str | None:
    """Send one drawing; record mouse-up -> the prediction's delta, and the answer."""
    digit, state = sketch
    log.drawn += 1
    run = await session.set(key, json_value=state, metric=metric)
    if run.metric_ms is None or run.metric in (None, NO_READING):
        raise AppError(f"the page showed no {metric!r} for a drawn {digit}")
    log.times_ms.append(run.metric_ms)
    log.answers.append((digit, run.metric))
    return run.metric


async def draw_visitor(url: str, index: int, sketches: list[Sketch], pace: Pace) -> SessionLog:
    """Open /draw and draw each sketch, clearing the canvas in between."""
    log, rng = SessionLog(index), np.random.default_rng(index)
    try:
        async with AppSession(url) as session:
            started = time.perf_counter()
            await session.open("draw")
            session.widget(DRAW_CANVAS)
            log.join_ms = (time.perf_counter() - started) * 1e3
            for k, sketch in enumerate(sketches):
                if k:
                    await asyncio.sleep(pace.pause(pace.look_s, rng))
                    await session.set("draw_clear", trigger_value=True)
                    # The emptied canvas sends its new value, as the browser's does.
                    await session.set(DRAW_CANVAS, json_value=empty_canvas_state())
                await asyncio.sleep(pace.pause(pace.draw_s, rng))
                await _draw(session, DRAW_CANVAS, DRAW_METRIC, sketch, log)
    except Exception as exc:  # a failed session is counted, not fatal to the crowd
        log.error = f"{type(exc).__name__}: {exc}"
    return log


async def _join(session: AppSession, code: str, by_code: bool) -> None:
    """Open the class page as a student: the link with the code, or the join form."""
    if not by_code:
        await session.open("class", f"code={code}")
    else:
        await session.open("class")
        await session.set("class_code_input", string_value=code)
        await session.set("class_join", trigger_value=True)
    if f"code={code}" not in session.query:
        raise AppError(f"joining {code} did not open the class (query {session.query!r})")
    session.widget(CLASS_CANVAS)


async def class_student(url: str, code: str, index: int, sketches: list[Sketch], pace: Pace,
                        everyone_in: Callable[[], Awaitable[None]],
                        by_code: bool = True) -> SessionLog:
    """Join, wait for the class, then draw, tap the digit meant and send each sketch."""
    log, rng = SessionLog(index), np.random.default_rng(index)
    try:
        async with AppSession(url) as session:
            started = time.perf_counter()
            try:
                await _join(session, code, by_code)
                log.join_ms = (time.perf_counter() - started) * 1e3
            finally:
                await everyone_in()
            for k, sketch in enumerate(sketches):
                await asyncio.sleep(pace.pause(pace.draw_s, rng))
                read = await _draw(session, CLASS_CANVAS, CLASS_METRIC, sketch, log)
                await asyncio.sleep(pace.pause(pace.look_s, rng))
                await session.set(f"class_label_{k}", string_array_value=[str(sketch[0])])
                await session.set("class_send", trigger_value=True)
                if not any(t.startswith(f"Sent: you drew a {sketch[0]}")
                           for t in session.texts()):
                    raise AppError(f"digit {k + 1} was not confirmed as sent")
                log.sent.append((sketch[0], int(read or -1)))
    except Exception as exc:
        log.error = f"{type(exc).__name__}: {exc}"
    return log


async def class_teacher(url: str, code: str, key: str, expected: int,
                        finished: Callable[[], bool], grace_s: float) -> int:
    """The board open until it counts `expected` digits, or `grace_s` after every student
    finished; its last count. Its live fragment reruns every `run_every`, as in a browser."""
    async with AppSession(url) as board:
        await board.open("class", f"board={code}&key={key}")
        if not board.auto_reruns:
            raise AppError("the teacher's board has no live fragment")
        fragment, every = next(iter(board.auto_reruns.items()))
        shown, done_at = -1, None
        while True:
            shown = int((board.metric("Digits drawn") or "-1").replace(",", ""))
            if shown >= expected:
                return shown
            if done_at is None and finished():
                done_at = time.monotonic()
            if done_at is not None and time.monotonic() - done_at > grace_s:
                return shown
            await asyncio.sleep(every)
            await board.rerun(fragment, auto=True)


async def crowd(count: int, visit: Callable[[int], Awaitable[SessionLog]],
                stagger_s: float, meter: Meter) -> list[SessionLog]:
    """`visit(i)` for i in range(count), started `stagger_s` apart, all at once; the
    machine is measured into `meter` meanwhile."""
    async def one(i: int) -> SessionLog:
        await asyncio.sleep(i * stagger_s)
        return await visit(i)

    async def sample() -> None:
        while True:
            meter.load.append(os.getloadavg()[0])
            await asyncio.sleep(LOAD_EVERY_S)

    sampler, cpu = asyncio.create_task(sample()), cpu_seconds(children())
    try:
        return list(await asyncio.gather(*(one(i) for i in range(count))))
    finally:
        sampler.cancel()
        meter.server_cpu_s = cpu_seconds(children()) - cpu


def barrier(count: int) -> Callable[[], Awaitable[None]]:
    """An awaitable that returns once `count` sessions have called it (the class is in)."""
    arrived, everyone = [0], asyncio.Event()

    async def wait() -> None:
        arrived[0] += 1
        if arrived[0] >= count:
            everyone.set()
        await everyone.wait()

    return wait


def print_report(logs: list[SessionLog], seconds: float, meter: Meter) -> None:
    """Sessions ok and failed (with reasons), digits answered and right, join time and
    mouse-up -> prediction (p50, p95, max), and the load average while they ran."""
    from tests.benchmarks.crowd import latency_summary

    failed = [log for log in logs if log.error]
    times = [ms for log in logs for ms in log.times_ms]
    answers = [a for log in logs for a in log.answers]
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this process: the clients, no server
    print(f"  {len(logs) - len(failed)} sessions ok, {len(failed)} failed, in {seconds:.0f} s;"
          f" load average {min(meter.load):.1f}-{max(meter.load):.1f} (1 min) on "
          f"{os.cpu_count()} cores")
    print(f"  CPU used: the server {meter.server_cpu_s:.0f} s ({meter.server_cpu_s / seconds:.2f}"
          f" cores on average), the clients {usage.ru_utime + usage.ru_stime:.0f} s")
    for log in failed[:5]:
        print(f"    session {log.index}: {(log.error or '').splitlines()[0][:200]}")
    right = sum(log.right for log in logs)
    print(f"  digits drawn {sum(log.drawn for log in logs)}, answered {len(answers)}, "
          f"read right {right}")
    joins = latency_summary([log.join_ms for log in logs if log.join_ms is not None])
    if joins["n"]:
        print(f"  page open (first run with the canvas): p50 {joins['p50']:.0f} ms, "
              f"max {joins['max']:.0f} ms")
    summary = latency_summary(times)
    if summary["n"]:
        print(f"  mouse-up -> prediction delta, {summary['n']} digits: p50 "
              f"{summary['p50']:.0f} ms, p95 {summary['p95']:.0f} ms, max {summary['max']:.0f} ms"
              f" (target p95 <= 1000 ms)")
        first = latency_summary([log.times_ms[0] for log in logs if log.times_ms])
        later = latency_summary([ms for log in logs for ms in log.times_ms[1:]])
        for name, part in (("first digits (others still opening)", first), ("later", later)):
            if part["n"]:
                print(f"    {name}, {part['n']}: p50 {part['p50']:.0f} ms, "
                      f"p95 {part['p95']:.0f} ms")
