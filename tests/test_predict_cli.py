"""`python -m model.predict` run for real, as a subprocess, on files written to tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from model.predict import UNEXPECTED
from model.reader import read_digits
from model.reader.imaging import decode_image
from tests.joined_pages import a_digit_that_may_be_two
from training.realsets import scribble_samples
from training.synthetic_scans import PageStyle, compose_page

PROJECT_DIR = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "model.predict", *args], cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory, mnist) -> dict[str, Path]:
    """A good two-line page, a missing file, a text file named .png and a blank page."""
    folder = tmp_path_factory.mktemp("cli")
    page, _ = compose_page([[mnist.x_test[i] for i in (0, 1, 2, 3)],
                            [mnist.x_test[i] for i in (4, 5)]], PageStyle(digit_height=50))
    good = folder / "number.png"
    Image.fromarray(page).save(good)
    text = folder / "notes.png"
    text.write_text("not an image\n")
    blank = folder / "blank.jpg"
    Image.fromarray(np.full((120, 160), 250, np.uint8)).save(blank)
    return {"good": good, "missing": folder / "missing.png", "text": text, "blank": blank,
            "labels": "".join(str(mnist.y_test[i]) for i in range(4)) + " "
                      + "".join(str(mnist.y_test[i]) for i in (4, 5))}


def test_one_json_line_per_file_and_clear_errors(files, shipped_dir) -> None:
    order = [files["good"], files["missing"], files["text"], files["blank"]]
    result = run_cli("--json", "--model", str(shipped_dir), *map(str, order))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(order)
    records = [json.loads(line) for line in lines]
    assert [r["file"] for r in records] == [str(p) for p in order]

    good = records[0]
    assert good["text"] == files["labels"] and "error" not in good
    assert len(good["digits"]) == 6
    for digit in good["digits"]:
        assert set(digit) >= {"digit", "confidence", "box", "sure"}
        assert 0.0 <= digit["confidence"] <= 1.0 and len(digit["box"]) == 4
    assert [d["line"] for d in good["digits"]] == [0, 0, 0, 0, 1, 1]

    assert records[1] == {"file": str(files["missing"]), "error": "The file does not exist."}
    assert records[2]["error"].startswith("The file is not a supported image")
    assert records[3]["error"] == "No digit found in the image."
    for record in records[1:]:
        assert set(record) == {"file", "error"}
        assert record["error"].endswith(".") and "\n" not in record["error"]


def test_all_good_files_exit_zero_with_the_default_model(files) -> None:
    result = run_cli("--json", str(files["good"]), str(files["good"]))
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["text"] for line in result.stdout.splitlines()] == \
        [files["labels"]] * 2


def test_readable_output(files, shipped_dir) -> None:
    result = run_cli("--model", str(shipped_dir), str(files["good"]), str(files["text"]))
    assert result.returncode == 1
    good, bad = result.stdout.strip().splitlines()
    assert good.startswith(f"{files['good']}: {files['labels']}")
    assert bad.startswith(f"{files['text']}: error: The file is not a supported image")


def test_a_confident_digit_that_is_not_sure_says_why(tmp_path, shipped_dir,
                                                    predictor) -> None:
    # A scrawl the network reads at 90 % or more, unlike the digits of its class:
    # "not sure: 3 (100%)" would contradict itself.
    for k, sample in enumerate(scribble_samples(100)):
        picture = tmp_path / f"scrawl{k}.png"
        Image.fromarray(np.round(decode_image(sample.image) * 255).astype(np.uint8)).save(picture)
        found = read_digits(picture, predictor, single=True).digits[0]
        if found.unusual:
            break
    else:
        pytest.fail("no scribble was read confidently yet not sure")
    readable = run_cli("--single", "--model", str(shipped_dir), str(picture))
    digit = found.digit
    assert readable.stdout.strip() == (
        f"{picture}: {digit}  (not sure: {digit} (unlike the {digit}s it learned from))")
    record = json.loads(run_cli("--json", "--single", "--model", str(shipped_dir),
                                str(picture)).stdout)
    assert record["digits"][0]["unusual"] is True and record["digits"][0]["sure"] is False


def test_a_digit_that_may_be_two_says_so(tmp_path, shipped_dir, predictor) -> None:
    # A number written without lifting the pen, read with a mark that may hold two digits
    # (`model.reader.classify.COUNT_DOUBT`): its digit is not sure, however confident, and for
    # a reason that is not its shape.
    page, found = a_digit_that_may_be_two(predictor)
    picture = tmp_path / "joined.png"
    Image.fromarray(page).save(picture)
    record = json.loads(run_cli("--json", "--model", str(shipped_dir), str(picture)).stdout)
    doubted = [d for d in record["digits"] if d["bounds_doubted"]]
    assert doubted and all(not d["sure"] and not d["unusual"] for d in doubted)
    readable = run_cli("--model", str(shipped_dir), str(picture)).stdout
    assert f"{found.digit} (it may be two digits, or part of one)" in readable


def test_single_reads_one_digit(files, shipped_dir) -> None:
    result = run_cli("--json", "--single", "--model", str(shipped_dir), str(files["good"]))
    assert result.returncode == 0
    assert len(json.loads(result.stdout)["digits"]) == 1


def test_a_missing_model_is_one_sentence_per_file(files, tmp_path) -> None:
    result = run_cli("--json", "--model", str(tmp_path / "no-model"), str(files["good"]),
                     str(files["blank"]))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2
    assert all(r["error"].startswith("The model could not be loaded") for r in records)


def test_usage_errors_are_reported_by_argparse() -> None:
    result = run_cli()
    assert result.returncode == 2 and "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_never_imports_tensorflow(files, shipped_dir) -> None:
    code = ("import sys; from model.predict import main; "
            f"main(['--json', '--model', {str(shipped_dir)!r}, {str(files['good'])!r}]); "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True,
                            text=True, timeout=120, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_an_unexpected_failure_is_one_sentence(files, predictor) -> None:
    """A bug inside the reader becomes the generic sentence, and the batch goes on."""
    from model.predict import read_file

    class Broken:
        def predict_proba(self, images: np.ndarray) -> np.ndarray:
            raise RuntimeError("boom")

    assert read_file(str(files["good"]), Broken(), single=False) == \
        {"file": str(files["good"]), "error": UNEXPECTED}
    assert read_file(str(files["good"]), predictor, single=False)["text"] == files["labels"]
