"""The scoring service as `make serve` runs it, for tests and bench_serve: the azmlinfsrv
app under gunicorn with the project's `gunicorn.conf.py` on a free loopback port, in its
own process group, stopped on exit."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0  # generous: CI's 2 cores may be busy
STOP_TIMEOUT_S = 15.0
GUNICORN_CONFIG = PROJECT_DIR / "gunicorn.conf.py"  # make serve's settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status == 200
        finally:
            conn.close()
    except OSError:
        return False


@contextmanager
def scoring_server(model_dir: Path, log_path: Path, env: dict[str, str | None],
                   workers: int = 1, args: Sequence[str] = ()) -> Iterator[int]:
    """Start the server on `model_dir` with `env` over this process's (None removes a
    variable) and gunicorn `args` over gunicorn.conf.py's settings; yield its port.

    Raises RuntimeError with the server's log when it does not answer `GET /` in time.
    """
    port = free_port()
    full_env = {**os.environ, "AML_APP_ROOT": str(PROJECT_DIR),
                "AZUREML_ENTRY_SCRIPT": "model/score.py", "AZUREML_MODEL_DIR": str(model_dir),
                **env}
    full_env = {key: value for key, value in full_env.items() if value is not None}
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONFIG),
             "-b", f"127.0.0.1:{port}", "-w", str(workers), *args,
             "azureml_inference_server_http.server.entry:app"],
            cwd=PROJECT_DIR, env=full_env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("The scoring server did not answer GET / within "
                                       f"{START_TIMEOUT_S:.0f} s:\n"
                                       + log_path.read_text()[-3000:])
                time.sleep(0.2)
            yield port
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
