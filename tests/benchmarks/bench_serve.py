"""Throughput and latency of the scoring script under Azure ML's inference server.

    python -m tests.benchmarks.bench_serve [--requests 2000] [--clients 20] [--workers 2]

Starts the server as `make serve` does (the azmlinfsrv app under gunicorn on a free
loopback port, the shipped model), sends single-digit MNIST test images as
``{"image": "<base64 PNG>"}`` from concurrent client threads (one keep-alive-free
connection per request, as a simple client would), then prints requests/s, p50/p95
latency and the error count. Targets: >= 200 req/s, p95 <= 50 ms, 0 errors. It
asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from model.settings import SETTINGS
from training.data import load_mnist

PROJECT_DIR = Path(__file__).resolve().parents[2]
IMAGES = 200  # distinct digits, cycled


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _post(port: int, body: bytes) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("POST", "/score", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000.0
    finally:
        conn.close()


def _bodies() -> list[bytes]:
    mnist = load_mnist()
    bodies = []
    for digit in mnist.x_test[:IMAGES]:
        buffer = io.BytesIO()
        Image.fromarray(255 - digit).save(buffer, "PNG")  # dark ink on white, like a scan
        bodies.append(json.dumps({"image": base64.b64encode(buffer.getvalue()).decode()})
                      .encode())
    return bodies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make serve: 2)")
    parser.add_argument("--no-log", action="store_true",
                        help="switch the prediction log off (DIGIT_STUDIO_MONITOR=off)")
    args = parser.parse_args(argv)
    bodies = _bodies()
    port = _port()
    runs = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = {**os.environ, "AML_APP_ROOT": str(PROJECT_DIR),
           "AZUREML_ENTRY_SCRIPT": "model/score.py",
           "AZUREML_MODEL_DIR": str(SETTINGS.shipped_model_dir),
           "DIGIT_STUDIO_RUNS": str(runs), "DIGIT_STUDIO_MONITOR_DB": str(runs / "monitor.db"),
           "DIGIT_STUDIO_MONITOR": "off" if args.no_log else "on"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-b", f"127.0.0.1:{port}", "-w", str(args.workers),
         "azureml_inference_server_http.server.entry:app"],
        cwd=PROJECT_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        up = time.perf_counter()
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        print(f"server up in {time.perf_counter() - up:.1f} s ({args.workers} workers)")
        for body in bodies[:args.workers * 4]:  # warm every worker's first request
            _post(port, body)
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        counter = iter(range(args.requests))

        def client() -> None:
            nonlocal errors
            for i in counter:  # shared iterator: each request is sent once
                try:
                    status, ms = _post(port, bodies[i % len(bodies)])
                except OSError:
                    status, ms = 0, 0.0
                with lock:
                    if status == 200:
                        latencies.append(ms)
                    else:
                        errors += 1

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=10)
    p50, p95 = np.percentile(latencies, [50, 95]) if latencies else (float("nan"),) * 2
    print(f"{args.requests} requests from {args.clients} clients in {seconds:.2f} s: "
          f"{args.requests / seconds:.0f} req/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
          f"{errors} errors")
    if not args.no_log:  # every reading served is in the prediction log (workers flush at exit)
        from model.monitor_store import load_readings

        logged = sum(r.source == "service" for r in load_readings(path=runs / "monitor.db"))
        print(f"prediction log: {logged} service readings for {len(latencies)} answered "
              f"(+{args.workers * 4} warm-up)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
