"""A Streamlit client that speaks the app's own websocket protocol, as the browser does.

    session = AppSession("http://127.0.0.1:8501")
    await session.open("draw")                                  # the page, first run
    run = await session.set("draw_canvas_280x280", json_value=state, metric="Prediction")
    run.metric, run.metric_ms                                   # the answer, and when

One `AppSession` is one browser tab: the page's HTML and the frontend's start-up
requests over HTTP, then a websocket on `/_stcore/stream` (subprotocol
"streamlit", same-origin), `BackMsg.rerun_script` out with the page, the query
string and every widget's value, `ForwardMsg`s in (`new_session` starts a run,
`delta`s fill the page, `script_finished` ends it). It keeps the page's elements by
their delta path, as the frontend does, and drops those a run did not redraw, so
widgets are found by their key (`$$ID-<hash>-<key>`) and a widget inside a fragment
reruns that fragment only. It runs no JavaScript: components are given the value
their frontend would send (tests/benchmarks/canvas_value.py for the drawing canvas).
Nothing is cached client-side, so the server sends every message in full.
"""

from __future__ import annotations

import asyncio
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import StringArray
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

STREAM_PATH = "/_stcore/stream"
STARTUP_PATHS = ("/_stcore/health", "/_stcore/host-config")  # what the frontend asks first
SUBPROTOCOL = "streamlit"
RUN_TIMEOUT_S = 120.0  # one script run, with 30 sessions sharing 2 cores
FINISHED_EARLY = ForwardMsg.FINISHED_EARLY_FOR_RERUN  # a rerun follows at once
CONTEXT = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US",
           "is_embedded": False, "color_scheme": "light"}


class AppError(RuntimeError):
    """The app failed this session: an exception on the page, a lost or slow connection."""


@dataclass
class RunResult:
    """One script run, from the message that asked for it to its `script_finished`."""

    seconds: float
    metric: str | None = None  # the watched metric's value in this run, if it was drawn
    metric_ms: float | None = None  # send -> the delta carrying that metric


@dataclass
class _Node:
    """An element or block at a delta path, with the run and fragment that drew it."""

    proto: Any
    kind: str
    fragment: str
    run: int


@dataclass
class _Waiter:
    metric: str | None
    sent: float
    result: RunResult | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class AppSession:
    """One browser session of a running app, spoken to over its websocket."""

    def __init__(self, base_url: str, *, timeout_s: float = RUN_TIMEOUT_S) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.query = ""
        self.page_hash = ""
        self.auto_reruns: dict[str, float] = {}  # fragment id -> seconds (run_every)
        self._page = ""
        self._nodes: dict[tuple[int, ...], _Node] = {}
        self._states: dict[str, WidgetState] = {}
        self._run = 0
        self._run_fragments: list[str] = []
        self._waiter: _Waiter | None = None
        self._errors: list[str] = []
        self._ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    # --- connection --------------------------------------------------------------------

    async def open(self, page: str, query: str = "") -> RunResult:
        """Load `/page?query` as a browser opening that link: the page's HTML and the
        frontend's two start-up requests over HTTP, then the websocket and the first run."""
        from websockets.asyncio.client import connect

        link = f"{self.base_url}/{page}" + (f"?{query}" if query else "")
        for url in (link, *(f"{self.base_url}{path}" for path in STARTUP_PATHS)):
            await asyncio.to_thread(self._get, url)
        parts = urlsplit(self.base_url)
        self._ws = await asyncio.wait_for(connect(
            f"ws://{parts.netloc}{STREAM_PATH}", subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
            origin=self.base_url, max_size=None, ping_interval=None,  # type: ignore[arg-type]
            open_timeout=self.timeout_s), self.timeout_s)
        self._reader = asyncio.create_task(self._read())
        self._page, self.query = page, query
        return await self._send(page_name=page)

    def _get(self, url: str) -> None:
        with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
            response.read()

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def __aenter__(self) -> AppSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- what the page shows -------------------------------------------------------------

    def elements(self, kind: str | None = None) -> Iterator[Any]:
        """The page's elements (protos) of one kind ("metric", "alert", ...), in page order."""
        for path in sorted(self._nodes):
            node = self._nodes[path]
            if kind is None or node.kind == kind:
                yield node.proto

    def metric(self, label: str) -> str | None:
        """The value shown by the `st.metric` labelled `label`, or None."""
        return next((m.body for m in self.elements("metric") if m.label == label), None)

    def texts(self) -> list[str]:
        """Every alert's and markdown's text, and every heading's."""
        return [e.body for kind in ("alert", "markdown", "heading")
                for e in self.elements(kind)]

    def widget(self, key: str) -> tuple[str, str]:
        """(widget id, fragment id) of the widget created with `key=key`."""
        for path in sorted(self._nodes):
            node = self._nodes[path]
            widget_id = getattr(node.proto, "id", "")
            if isinstance(widget_id, str) and widget_id.endswith(f"-{key}"):
                return widget_id, node.fragment
        raise AppError(f"no widget with key {key!r} on the page")

    # --- interaction ---------------------------------------------------------------------

    async def set(self, key: str, *, metric: str | None = None, **value: Any) -> RunResult:
        """Give the widget `key` a value, as its frontend does (`json_value=...`,
        `string_value=...`, `string_array_value=[...]`, `trigger_value=True` for a click),
        and wait for the rerun (of the widget's fragment, if it is in one). With `metric`,
        the result says when that metric's new value arrived."""
        widget_id, fragment = self.widget(key)
        if isinstance(value.get("string_array_value"), list):
            value["string_array_value"] = StringArray(data=value["string_array_value"])
        state = WidgetState(id=widget_id, **value)
        triggers = []
        if "trigger_value" in value:  # a click counts once, in the run it starts
            triggers.append(state)
        else:
            self._states[widget_id] = state
        return await self._send(fragment=fragment, metric=metric, extra=triggers)

    async def rerun(self, fragment: str = "", *, auto: bool = False) -> RunResult:
        """Rerun the page (or one fragment, as `run_every` makes the browser do)."""
        return await self._send(fragment=fragment, auto=auto)

    async def _send(self, *, page_name: str = "", fragment: str = "",
                    metric: str | None = None, extra: list[WidgetState] | None = None,
                    auto: bool = False) -> RunResult:
        if self._waiter is not None:
            raise AppError("a run is still in progress in this session")
        message = BackMsg()
        rerun = message.rerun_script
        rerun.query_string = self.query
        rerun.page_name = page_name
        rerun.page_script_hash = "" if page_name else self.page_hash
        rerun.fragment_id = fragment
        rerun.is_auto_rerun = auto
        rerun.widget_states.widgets.extend([*self._states.values(), *(extra or [])])
        for name, setting in CONTEXT.items():
            setattr(rerun.context_info, name, setting)
        rerun.context_info.url = f"{self.base_url}/{self._page}" + (
            f"?{self.query}" if self.query else "")
        waiter = self._waiter = _Waiter(metric, time.perf_counter())
        try:
            await self._ws.send(message.SerializeToString())
            await asyncio.wait_for(waiter.done.wait(), self.timeout_s)
        except TimeoutError:
            raise AppError(f"no answer within {self.timeout_s:.0f} s") from None
        finally:
            self._waiter = None
        if self._errors:
            raise AppError(f"the page raised: {self._errors[0]}")
        assert waiter.result is not None
        return waiter.result

    # --- what the server sends -----------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = ForwardMsg()
                message.ParseFromString(raw)
                self._handle(message)
        except Exception as exc:  # the connection broke: whoever waits must hear of it
            self._errors.append(f"connection lost ({type(exc).__name__}: {exc})")
        else:
            self._errors.append("the server closed the connection")
        if self._waiter is not None:
            self._waiter.result = RunResult(time.perf_counter() - self._waiter.sent)
            self._waiter.done.set()

    def _handle(self, message: ForwardMsg) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            self._run += 1
            self._run_fragments = list(message.metadata.run.fragment_ids)
        elif kind == "delta":
            self._delta(message)
        elif kind == "page_info_changed":
            self.query = message.page_info_changed.query_string
        elif kind == "navigation" and message.navigation.page_script_hash:
            self.page_hash = message.navigation.page_script_hash
        elif kind == "auto_rerun":
            self.auto_reruns[message.auto_rerun.fragment_id] = message.auto_rerun.interval
        elif kind == "ref_hash":
            self._errors.append("a cached-message reference, though this client caches none")
        elif kind == "script_finished":
            self._finished(message.script_finished)

    def _delta(self, message: ForwardMsg) -> None:
        delta = message.delta
        path = tuple(message.metadata.delta_path)
        if message.metadata.active_script_hash:
            self.page_hash = message.metadata.active_script_hash
        if delta.WhichOneof("type") == "new_element":
            kind = delta.new_element.WhichOneof("type") or ""
            proto = getattr(delta.new_element, kind) if kind else None
        elif delta.WhichOneof("type") == "add_block":
            kind, proto = "block", delta.add_block
        else:
            return
        self._nodes[path] = _Node(proto, kind, delta.fragment_id, self._run)
        if kind == "exception":
            where = " | ".join(line.strip() for line in proto.stack_trace[-4:])
            self._errors.append(f"{proto.type}: {proto.message}" + (f" [{where}]" if where else ""))
        waiter = self._waiter
        if (waiter and waiter.metric and kind == "metric" and proto.label == waiter.metric
                and waiter.result is None):
            waiter.result = RunResult(0.0, proto.body,
                                      (time.perf_counter() - waiter.sent) * 1e3)

    def _finished(self, status: int) -> None:
        if status == FINISHED_EARLY:
            return
        # What this run did not redraw is gone from the page (within its fragments, for
        # a fragment run), and so are the values of widgets no longer shown.
        fragments = set(self._run_fragments)
        self._nodes = {path: node for path, node in self._nodes.items()
                       if node.run == self._run or (fragments and node.fragment not in fragments)}
        shown = {getattr(node.proto, "id", None) for node in self._nodes.values()}
        self._states = {k: v for k, v in self._states.items() if k in shown}
        waiter = self._waiter
        if waiter is not None:
            seconds = time.perf_counter() - waiter.sent
            if waiter.result is None:
                waiter.result = RunResult(seconds)
            else:
                waiter.result.seconds = seconds
            waiter.done.set()
