"""The server's CPU per interaction, one session at a time: what limits a class.

    python -m tests.benchmarks.bench_rerun_cpu [--page draw|class] [--digits 12] [--profile OUT]

Starts `streamlit run app.py` on loopback (its own monitoring and class store), opens one
websocket session (tests/benchmarks/st_client.py) and plays a visitor: on /draw a digit,
Clear and the emptied canvas; on /class a digit, tapping the digit meant and Send. Each
interaction is timed by the server's CPU seconds (user + system, /proc) from the message
out until its rerun has finished and SETTLE_S more, less what the idle server uses in the
same time. Prints the mean per interaction (/proc counts CPU in 10 ms ticks: the
mean over many digits is finer than any one) and the load average (the machine is shared:
compare figures taken at a similar load). With `--profile OUT`, py-spy samples the server
meanwhile and writes collapsed stacks to OUT (`py-spy` must be able to attach). Asserts
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.benchmarks.canvas_value import empty_canvas_state
from tests.benchmarks.procstat import children, cpu_seconds
from tests.benchmarks.st_client import AppSession
from tests.benchmarks.ws_crowd import (
    CLASS_CANVAS,
    DRAW_CANVAS,
    digit_sketches,
)
from tests.browser import streamlit_app

SETTLE_S = 0.4  # after the rerun's last message: the log writer's batch and the like
WARM_UP = 1  # digits played before measuring (first imports, caches)


async def _idle_cpu_per_s() -> float:
    before = cpu_seconds(children())
    await asyncio.sleep(2.0)
    return (cpu_seconds(children()) - before) / 2.0


async def _timed(costs: dict[str, list[float]], name: str, idle: float,
                 action: Callable[[], Awaitable[object]]) -> None:
    started, cpu = time.perf_counter(), cpu_seconds(children())
    await action()
    await asyncio.sleep(SETTLE_S)
    spent = cpu_seconds(children()) - cpu - idle * (time.perf_counter() - started)
    costs[name].append(spent * 1e3)


async def _draw(url: str, digits: int) -> dict[str, list[float]]:
    costs: dict[str, list[float]] = defaultdict(list)
    async with AppSession(url) as session:
        await session.open("draw")
        idle = await _idle_cpu_per_s()
        for k, (_, state) in enumerate(digit_sketches(0, digits + WARM_UP)):
            target = costs if k >= WARM_UP else defaultdict(list)
            await _timed(target, "drawing", idle, lambda s=state: session.set(
                DRAW_CANVAS, json_value=s, metric="Prediction"))
            await _timed(target, "Clear", idle,
                         lambda: session.set("draw_clear", trigger_value=True))
            await _timed(target, "emptied canvas", idle, lambda: session.set(
                DRAW_CANVAS, json_value=empty_canvas_state()))
    return costs


async def _class(url: str, code: str, digits: int) -> dict[str, list[float]]:
    costs: dict[str, list[float]] = defaultdict(list)
    async with AppSession(url) as session:
        await session.open("class", f"code={code}")
        idle = await _idle_cpu_per_s()
        for k, (digit, state) in enumerate(digit_sketches(0, digits + WARM_UP)):
            target = costs if k >= WARM_UP else defaultdict(list)
            await _timed(target, "drawing", idle, lambda s=state: session.set(
                CLASS_CANVAS, json_value=s, metric="The model reads"))
            await _timed(target, "tap the digit meant", idle, lambda k=k, d=digit: session.set(
                f"class_label_{k}", string_array_value=[str(d)]))
            await _timed(target, "Send", idle,
                         lambda: session.set("class_send", trigger_value=True))
    return costs


def _server_pid() -> int:
    found = children()  # `streamlit run`, started by streamlit_app
    if not found:
        raise RuntimeError("no server process found")
    return found[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", choices=("draw", "class"), default="draw")
    parser.add_argument("--digits", type=int, default=12)
    parser.add_argument("--profile", type=Path, help="py-spy's collapsed stacks to this file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-rerun-cpu-"))
    os.environ["DIGIT_STUDIO_MONITOR_DB"] = str(folder / "monitor.db")
    load = os.getloadavg()[0]
    with streamlit_app(folder / "server.log") as url:
        spy = None
        if args.profile:
            spy = subprocess.Popen([str(Path(sys.executable).with_name("py-spy")), "record",
                                    "--pid", str(_server_pid()), "--format", "raw",
                                    "--rate", "200", "--output", str(args.profile)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if args.page == "draw":
            costs = asyncio.run(_draw(url, args.digits))
        else:
            from model.classroom import ClassStore

            code = ClassStore().start().code
            costs = asyncio.run(_class(url, code, args.digits))
        if spy is not None:
            spy.send_signal(2)  # SIGINT: py-spy writes its file
            spy.wait(timeout=30)
    print(f"/{args.page}: server CPU per interaction, mean of {args.digits} (load average "
          f"{load:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores)")
    total = 0.0
    for name, values in costs.items():
        mean = statistics.fmean(values)
        total += mean
        print(f"  {name:<22} {mean:6.0f} ms  (median {statistics.median(values):.0f})")
    print(f"  {'a digit in all':<22} {total:6.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
