"""The scoring scripts under Azure ML's real inference server on loopback, and batch-local.

The server runs as `make serve` runs it (the azmlinfsrv app under gunicorn), in its
own process group, and is stopped by the fixture.
"""

from __future__ import annotations

import base64
import csv
import http.client
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image

from model.service import MAX_IMAGES, MAX_REQUEST_BYTES
from tests.scoring_server import scoring_server
from training.synthetic_scans import PageStyle, compose_page

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _request(port: int, method: str, path: str, body: bytes | None = None
             ) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, shipped_dir) -> Iterator[int]:
    """`make serve`'s command on a free loopback port; yields the port."""
    runs = tmp_path_factory.mktemp("serve-runs")
    with scoring_server(shipped_dir, runs / "server.log",
                        {"DIGIT_STUDIO_RUNS": str(runs),
                         "DIGIT_STUDIO_MONITOR_DB": str(runs / "monitor.db")}) as port:
        yield port


@pytest.fixture(scope="module")
def page(tmp_path_factory, mnist) -> tuple[Path, bytes]:
    """A two-line page of MNIST test digits as a PNG file and its bytes."""
    picture, _ = compose_page([[mnist.x_test[i] for i in (0, 1, 2)],
                               [mnist.x_test[i] for i in (3, 4)]], PageStyle(digit_height=48))
    path = tmp_path_factory.mktemp("serve") / "page.png"
    Image.fromarray(picture).save(path)
    return path, path.read_bytes()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _score(port: int, payload: object | bytes) -> tuple[int, object]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    status, raw = _request(port, "POST", "/score", body)
    return status, json.loads(raw)


def test_root_answers_and_score_reads_like_the_cli(server, page, shipped_dir) -> None:
    path, data = page
    status, answer = _score(server, {"image": _b64(data)})
    assert status == 200
    cli = subprocess.run([sys.executable, "-m", "model.predict", "--json", "--model",
                          str(shipped_dir), str(path)], capture_output=True, text=True,
                         cwd=PROJECT_DIR, timeout=120, check=True)
    expected = json.loads(cli.stdout)
    assert answer["text"] == expected["text"] and " " in answer["text"]
    assert answer["sure"] == expected["sure"]
    assert answer["digits"] == expected["digits"]
    assert set(answer["digits"][0]) >= {"digit", "confidence", "box", "sure"}


def test_images_list_and_single(server, page, mnist) -> None:
    buffer = io.BytesIO()
    Image.fromarray(255 - mnist.x_test[0]).save(buffer, "PNG")
    digit = _b64(buffer.getvalue())
    status, answer = _score(server, {"images": [digit, _b64(page[1])], "single": True})
    assert status == 200 and isinstance(answer, list) and len(answer) == 2
    assert answer[0]["text"] == str(mnist.y_test[0])
    assert len(answer[1]["digits"]) == 1  # single: the whole page's ink is one digit


def test_a_phone_photo_in_heic_reads_as_its_png(server, page) -> None:
    """The deployment's environment (requirements-serve.txt) decodes iPhone photos too."""
    heic = io.BytesIO()
    pillow_heif.from_pillow(Image.open(page[0]).convert("RGB")).save(heic, quality=90)
    status, as_heic = _score(server, {"image": _b64(heic.getvalue())})
    _, as_png = _score(server, {"image": _b64(page[1])})
    assert status == 200 and as_heic["text"] == as_png["text"] and " " in as_heic["text"]


@pytest.mark.parametrize("body, words", [
    (b"garbage", "not JSON"),
    (b"[1, 2]", "JSON object"),
    (b"{}", "no image"),
    (json.dumps({"image": "%%%not base64%%%"}).encode(), "not valid base64"),
    (json.dumps({"image": _b64(b"hello, not a picture")}).encode(), "cannot be read"),
    (json.dumps({"images": ["aGVsbG8="] * (MAX_IMAGES + 1)}).encode(), "the limit is 64"),
    (json.dumps({"image": "aGVsbG8=", "single": "yes"}).encode(), "true or false"),
    (b'{"image": "' + b"A" * (MAX_REQUEST_BYTES + 8) + b'"}', "larger than 5 MB"),
])
def test_bad_input_is_a_400_with_one_sentence(server, body, words) -> None:
    status, raw = _request(server, "POST", "/score", body)
    assert status == 400
    error = json.loads(raw)["error"]
    assert words in error and error.endswith(".") and "\n" not in error


def test_get_on_score_is_a_400(server) -> None:
    status, raw = _request(server, "GET", "/score")
    assert status == 400 and "POST" in json.loads(raw)["error"]


def test_batch_local_writes_a_row_per_file_and_survives_a_bad_file(tmp_path, mnist,
                                                                   shipped_dir) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(3):
        Image.fromarray(255 - mnist.x_test[i]).save(folder / f"digit{i}.png")
    (folder / "broken.png").write_text("not an image\n")
    Image.fromarray(np.full((60, 60), 250, np.uint8)).save(folder / "blank.png")
    out = tmp_path / "out.csv"
    result = subprocess.run(
        [sys.executable, "-m", "training.azure", "batch-local", str(folder), "--out", str(out),
         "--model", str(shipped_dir)],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "DIGIT_STUDIO_RUNS": str(tmp_path / "runs"),
             "DIGIT_STUDIO_MONITOR_DB": str(tmp_path / "runs" / "monitor.db")})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = list(csv.DictReader(out.open()))
    assert [r["file"] for r in rows] == ["blank.png", "broken.png", "digit0.png", "digit1.png",
                                         "digit2.png"]
    by_name = {r["file"]: r for r in rows}
    for i in range(3):
        row = by_name[f"digit{i}.png"]
        assert row["text"] == str(mnist.y_test[i]) and not row["error"]
        assert 0.0 < float(row["confidence"]) <= 1.0 and row["sure"] in ("true", "false")
    assert "not a supported image" in by_name["broken.png"]["error"]
    assert by_name["broken.png"]["text"] == "" and by_name["broken.png"]["confidence"] == ""
    assert by_name["blank.png"]["text"] == "" and "No digit" in by_name["blank.png"]["error"]
