"""Throughput and latency of the scoring script under Azure ML's inference server.

    python -m tests.benchmarks.bench_serve [--requests 2000] [--clients 20] [--workers 2]
                                           [--rate 200] [--baseline log-off|sync|none]
                                           [--rounds 4]

Starts the server as `make serve` does (`tests.scoring_server`: the azmlinfsrv app under
gunicorn with gunicorn.conf.py, on a free loopback port, the shipped model, prediction
logging on) and a baseline server beside it: the same with logging off (`log-off`), or
the previous configuration, gunicorn's sync worker (`sync`). Each client is a thread
with one keep-alive HTTP/1.1 connection (http.client; it reconnects when the server
closes, as the sync worker does after every answer) sending single-digit MNIST test
images as ``{"image": "<base64 PNG>"}``.

Two loads, each server taking a round in turn so both see the same machine:
- *paced*: the clients together send `--rate` requests/s on a fixed
  schedule, each client every clients/rate seconds, staggered. Latency counts from the
  scheduled send time, so a server that falls behind is charged for the wait it causes
  (no coordinated omission).
- *flat out*: each client sends its next request as soon as the last is answered; the
  throughput is the most the machine answers, and its latency is simply
  clients / throughput.
Targets for each (logging on): >= 200 req/s, p95 <= 50 ms, 0 errors. The figures are
requests/s, p50/p95 latency, errors, the CPU each side spent per request, the load
average, and the ratios against the baseline. It asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from model.monitor_store import load_readings
from model.settings import SETTINGS
from tests.benchmarks.procstat import cpu_seconds, running
from tests.scoring_server import scoring_server
from training.data import load_mnist

IMAGES = 200  # distinct digits, cycled
TARGET_RPS, TARGET_P95_MS = 200.0, 50.0
# A paced round's rate counts from the first due time to the last answer, so the last
# request's latency shaves it a little below the schedule's (500 requests: about 1 %).
RATE_SLACK = 0.98
BASELINES = {"log-off": ({"DIGIT_STUDIO_MONITOR": "off"}, ()),  # env, gunicorn args
             "sync": ({}, ("-k", "sync")),
             "none": None}


@dataclass
class Tally:
    """One server's answers over all its rounds."""

    name: str
    port: int
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0
    client_cpu_s: float = 0.0
    server_cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p95(self) -> float:
        return float(np.percentile(self.latencies, 95)) if self.latencies else float("nan")

    def line(self) -> str:
        p50 = float(np.percentile(self.latencies, 50)) if self.latencies else float("nan")
        n = max(self.requests, 1)
        server_ms, client_ms = 1000 * self.server_cpu_s / n, 1000 * self.client_cpu_s / n
        # what the machine's cores could answer if this CPU per request were all they did
        ceiling = (os.cpu_count() or 1) * 1000 / max(server_ms + client_ms, 1e-9)
        return (f"{self.name:<24} {self.rps:5.0f} req/s  p50 {p50:6.1f} ms  "
                f"p95 {self.p95():6.1f} ms  {self.errors} errors  CPU per request: server "
                f"{server_ms:.2f} ms + client {client_ms:.2f} ms (all cores: {ceiling:.0f} req/s)")


def _bodies() -> list[bytes]:
    mnist = load_mnist()
    bodies = []
    for digit in mnist.x_test[:IMAGES]:
        buffer = io.BytesIO()
        Image.fromarray(255 - digit).save(buffer, "PNG")  # dark ink on white, like a scan
        bodies.append(json.dumps({"image": base64.b64encode(buffer.getvalue()).decode()})
                      .encode())
    return bodies


def _server_cpu_s(port: int) -> float:
    """CPU seconds of the gunicorn processes bound to `port` (master and workers)."""
    return cpu_seconds(running(f"127.0.0.1:{port}"))


def _round(tally: Tally, bodies: list[bytes], requests: int, clients: int,
           rate: float | None = None) -> None:
    """`requests` sent by `clients` threads, each on its own keep-alive connection:
    back to back, or at `rate` requests/s in all on a fixed schedule."""
    counter: Iterator[int] = iter(range(requests))
    lock = threading.Lock()
    interval = clients / rate if rate else 0.0  # one client's time between requests
    begin = time.perf_counter() + 0.05

    def client(number: int) -> None:
        conn: http.client.HTTPConnection | None = None
        due = begin + number * interval / clients  # staggered starts
        for i in counter:  # shared iterator: each request is sent once
            if interval:
                time.sleep(max(0.0, due - time.perf_counter()))
            started = due if interval else time.perf_counter()
            due += interval
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", tally.port, timeout=30)
                conn.request("POST", "/score", body=bodies[i % len(bodies)],
                             headers={"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if response.will_close:  # the server said Connection: close
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                ok = False
                if conn is not None:
                    conn.close()
                conn = None
            ms = (time.perf_counter() - started) * 1000.0
            with lock:
                if ok:
                    tally.latencies.append(ms)
                else:
                    tally.errors += 1
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    server_cpu, client_cpu, started = _server_cpu_s(tally.port), time.process_time(), \
        time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # paced: from the first request's due time, so the rate is the schedule's
    tally.seconds += time.perf_counter() - (begin if interval else started)
    tally.client_cpu_s += time.process_time() - client_cpu
    tally.server_cpu_s += _server_cpu_s(tally.port) - server_cpu


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per server and load")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make serve: 2)")
    parser.add_argument("--rate", type=float, default=TARGET_RPS,
                        help="requests/s of the paced load, all clients together")
    parser.add_argument("--baseline", choices=sorted(BASELINES), default="log-off",
                        help="what to compare with: logging off, or gunicorn's sync worker")
    parser.add_argument("--rounds", type=int, default=4, help="turns per server and load")
    args = parser.parse_args(argv)
    bodies = _bodies()
    runs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    setups = {"make serve, logging on": ({}, ())}
    if BASELINES[args.baseline] is not None:
        setups[f"baseline: {args.baseline}"] = BASELINES[args.baseline]
    loads = {f"paced at {args.rate:.0f} req/s": args.rate, "flat out": None}
    print(f"load average (1, 5, 15 min) before: {_load()}")
    tallies: dict[str, list[Tally]] = {load: [] for load in loads}
    per_round = args.requests // args.rounds
    with ExitStack() as stack:
        for i, (name, (env, gunicorn_args)) in enumerate(setups.items()):
            folder = runs / f"server{i}"
            folder.mkdir()
            port = stack.enter_context(scoring_server(
                SETTINGS.shipped_model_dir, folder / "server.log",
                {"DIGIT_STUDIO_RUNS": str(folder), "DIGIT_STUDIO_MONITOR_DB":
                 str(folder / "monitor.db"), "DIGIT_STUDIO_MONITOR": "on", **env},
                workers=args.workers, args=gunicorn_args))
            for load in loads:
                tallies[load].append(Tally(name, port))
        for tally in tallies["flat out"]:  # every worker loads its model and answers once
            _round(Tally("warm-up", tally.port), bodies, 4 * args.clients, args.clients)
        for load, rate in loads.items():
            for _ in range(args.rounds):
                for tally in tallies[load]:
                    _round(tally, bodies, per_round, args.clients, rate)
    # leaving the ExitStack stopped the servers: their workers flushed the log at exit
    print(f"load average after: {_load()}")
    print(f"{per_round * args.rounds} requests per server and load from {args.clients} "
          f"clients, {args.workers} workers, {args.rounds} rounds each, taking turns:")
    for load, group in tallies.items():
        print(f" {load}:")
        for tally in group:
            print("  " + tally.line())
        if len(group) == 2:
            main_tally, base = group
            print(f"  ratio to the baseline: {main_tally.rps / max(base.rps, 1e-9):.2f}x "
                  f"requests/s, {main_tally.p95() / base.p95():.2f}x p95")
    for load, rate in loads.items():
        tally = tallies[load][0]
        held = tally.rps >= RATE_SLACK * max(rate or 0.0, TARGET_RPS)
        met = held and tally.p95() <= TARGET_P95_MS and tally.errors == 0
        print(f"targets, {load}, logging on (>= {TARGET_RPS:.0f} req/s, p95 <= "
              f"{TARGET_P95_MS:.0f} ms, 0 errors): {'met' if met else 'not met'}")
    answered = sum(len(group[0].latencies) for group in tallies.values())
    logged = sum(r.source == "service" for r in load_readings(path=runs / "server0/monitor.db"))
    print(f"prediction log: {logged} service readings for {answered} answered "
          f"(+{4 * args.clients} warm-up)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
