"""The benchmarks' websocket client against the real app: sessions draw and their digits land.

`tests/benchmarks/st_client.py` speaks Streamlit's own protocol and sends the drawing
canvas's value as its frontend does (tests/benchmarks/canvas_value.py). If either
drifted from what the app expects, the page would show no prediction, a wrong one, or
nothing would reach the stores: these tests fail then, and the 30-session benchmarks
would measure nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.benchmarks.canvas_value import DIGIT_SHAPES, canvas_state
from tests.benchmarks.ws_crowd import (
    Pace,
    SessionLog,
    barrier,
    class_student,
    draw_visitor,
)

QUICK = Pace(draw_s=0.0, look_s=0.0)
LOG_WAIT_S = 30.0  # the prediction log's writer thread writes in batches; a busy CI is slow


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`streamlit run app.py` on loopback with a monitoring store of its own: (URL, store)."""
    from tests.browser import streamlit_app

    folder = tmp_path_factory.mktemp("st-client")
    store = folder / "monitor.db"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DIGIT_STUDIO_MONITOR_DB", str(store))  # the server inherits it
        env.delenv("DIGIT_STUDIO_MONITOR", raising=False)  # logging on
        try:
            with streamlit_app(folder / "server.log") as url:
                yield url, store
        except RuntimeError as exc:
            pytest.fail(str(exc))


T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to its end in a thread of its own: in the whole suite a browser
    test's Playwright loop may be running in this one, where `asyncio.run` refuses."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _gather(*visits) -> list[SessionLog]:
    async def run() -> list[SessionLog]:
        return list(await asyncio.gather(*visits))

    return _run(run())


def test_boards_and_students_opening_at_once_on_a_fresh_server(app: tuple[str, Path]):
    """First in this module, so on a server no page has run on yet: the first canvas
    imports pandas in one session's thread while the boards' plotly figures check for
    it in others. Before app.py imported pandas up front, every board here raised
    "partially initialized module 'pandas'"."""
    from model.classroom import ClassStore
    from tests.benchmarks.st_client import AppSession

    url, store_path = app
    session = ClassStore(store_path).start()

    async def open_page(query: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with AppSession(url) as tab:
            await tab.open("class", query)

    async def everyone() -> list:
        teacher = f"board={session.code}&key={session.teacher_key}"
        return await asyncio.gather(
            *(open_page(f"code={session.code}", 0.1 * i) for i in range(3)),
            *(open_page(teacher, 0.15 * i) for i in range(3)), return_exceptions=True)

    assert [str(r) for r in _run(everyone()) if r is not None] == []


def test_three_sessions_draw_at_once_and_each_reading_is_logged(app: tuple[str, Path]):
    from model.monitor_store import load_readings

    url, store = app
    started = time.time()
    digits = (2, 5, 9)  # shapes the browser tests do not draw
    logs = _gather(*(draw_visitor(url, i, [(d, canvas_state(DIGIT_SHAPES[d]))], QUICK)
                     for i, d in enumerate(digits)))
    assert [log.error for log in logs] == [None] * 3
    assert [log.answers for log in logs] == [[(d, str(d))] for d in digits]
    assert all(0 < log.times_ms[0] < 60_000 for log in logs)

    deadline = time.monotonic() + LOG_WAIT_S
    drawn: list = []
    while time.monotonic() < deadline and len(drawn) < len(digits):
        drawn = [r for r in load_readings(since=started, path=store) if r.source == "draw"]
        time.sleep(0.3)
    assert sorted(r.text for r in drawn) == ["2", "5", "9"]
    assert len({r.session for r in drawn}) == 3  # three sessions, not one


def test_students_join_with_the_code_and_their_digits_reach_the_class(app: tuple[str, Path]):
    from model.classroom import ClassStore
    from tests.benchmarks.st_client import AppSession

    url, store_path = app
    store = ClassStore(store_path)
    session = store.start()
    everyone_in = barrier(2)
    logs = _gather(
        class_student(url, session.code, 0, [(3, canvas_state(DIGIT_SHAPES[3]))], QUICK,
                      everyone_in, by_code=True),
        class_student(url, session.code, 1, [(8, canvas_state(DIGIT_SHAPES[8]))], QUICK,
                      everyone_in, by_code=False))
    assert [log.error for log in logs] == [None, None]
    assert [log.sent for log in logs] == [[(3, 3)], [(8, 8)]]
    kept = store.digits(session.code)
    assert sorted((d.label, d.predicted) for d in kept) == [(3, 3), (8, 8)]
    assert len({d.student for d in kept}) == 2

    async def board() -> str | None:
        async with AppSession(url) as teacher:
            await teacher.open("class", f"board={session.code}&key={session.teacher_key}")
            return teacher.metric("Digits drawn")

    assert _run(board()) == "2"


def test_a_wrong_code_does_not_join(app: tuple[str, Path]):
    url, _ = app
    log = _gather(class_student(url, "QQQQQ", 0, [(1, canvas_state(DIGIT_SHAPES[1]))], QUICK,
                                barrier(1)))[0]
    assert log.error is not None and "did not open the class" in log.error
    assert log.sent == []
