"""The app's pages under Streamlit's AppTest, with the real shipped model and real MNIST digits.

AppTest cannot draw on the canvas, so drawings are injected through
``st.session_state["draw_image"]`` (the draw page's documented hook) as the RGBA
array the canvas returns: black ink on a transparent background.
"""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from model.reader import read_canvas
from model.settings import SETTINGS
from tests.joined_pages import a_digit_that_may_be_two
from training.realsets import scribble_samples
from training.samples import DEFAULT_SEED, SAMPLES_DIR, read_labels, write_samples
from training.synthetic_scans import canvas_rgba

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP = str(PROJECT_DIR / "app.py")
RUN_TIMEOUT_S = 60  # the first run loads the model; the CPU may be busy with training
OPTIONAL_PAGES = ("evaluate.py", "data.py")


def _run(at: AppTest) -> AppTest:
    at.run(timeout=RUN_TIMEOUT_S)
    assert not at.exception, [e.message for e in at.exception]
    return at


@pytest.fixture
def app(shipped_dir: Path) -> AppTest:
    """The app as `streamlit run app.py` starts it, on its default (draw) page."""
    return _run(AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S))


@pytest.fixture
def upload(app: AppTest) -> AppTest:
    app.switch_page("pages/upload.py")
    return _run(app)


@pytest.fixture(scope="module")
def labels() -> dict[str, str]:
    found = read_labels(SAMPLES_DIR)
    assert found, f"No sample scans in {SAMPLES_DIR}: run `python -m training.samples`."
    return found


def _metric(at: AppTest, label: str) -> str:
    values = [m.value for m in at.metric if m.label == label]
    assert len(values) == 1, f"expected one {label!r} metric, found {values}"
    return values[0]


def _first_of_each_class(mnist) -> list[tuple[int, np.ndarray]]:
    return [(d, mnist.x_test[np.flatnonzero(mnist.y_test == d)[0]]) for d in range(10)]


def _file(name: str) -> tuple[str, bytes, str]:
    return name, (SAMPLES_DIR / name).read_bytes(), "image/png"


# --- the frame ---------------------------------------------------------------------------


def test_app_opens_on_the_draw_page_with_the_model_in_the_sidebar(app: AppTest, predictor):
    assert [t.value for t in app.title] == ["Draw a digit"]
    sidebar_text = " ".join(m.value for m in app.sidebar.markdown)
    assert predictor.name in sidebar_text
    accuracy = [m.value for m in app.sidebar.metric if m.label == "MNIST test accuracy"]
    assert accuracy == [f"{predictor.test_accuracy:.2%}"]


def test_navigation_registers_every_page_file(app: AppTest):
    present = ["draw.py", "upload.py"] + [
        name for name in OPTIONAL_PAGES if (PROJECT_DIR / "pages" / name).is_file()]
    for name in present:
        app.switch_page(f"pages/{name}")  # raises ValueError for a page not in the menu
    with pytest.raises(ValueError):
        app.switch_page("pages/common/state.py")


def test_app_start_does_not_import_tensorflow(shipped_dir: Path):
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({APP!r}).run(timeout={RUN_TIMEOUT_S})\n"
        "assert not at.exception, at.exception\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_missing_model_is_one_error_sentence(monkeypatch, tmp_path: Path):
    from pages.common.state import get_predictor

    # Point the shipped-model folder at an empty one, as on a checkout without the model.
    monkeypatch.setattr("model.files.SETTINGS",
                        dataclasses.replace(SETTINGS, shipped_model_dir=tmp_path))
    get_predictor.clear()
    try:
        at = _run(AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S))
    finally:
        get_predictor.clear()
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("Digit Studio cannot read digits until its model is in place")
    assert str(tmp_path) in message and "Traceback" not in message
    assert not at.metric  # the page itself did not run


# --- draw page ---------------------------------------------------------------------------


def test_draw_page_shows_a_dash_before_anything_is_drawn(app: AppTest):
    assert _metric(app, "Prediction") == "–"
    assert _metric(app, "Confidence") == "–"
    assert not app.get("plotly_chart")


def test_draw_page_reads_real_mnist_digits_drawn_on_the_canvas(app: AppTest, mnist):
    for label, digit in _first_of_each_class(mnist):
        app.session_state["draw_image"] = canvas_rgba(digit)
        _run(app)
        assert _metric(app, "Prediction") == str(label)
        assert _metric(app, "Confidence").endswith("%")
        assert len(app.get("plotly_chart")) == 1  # the ten probabilities
        assert "What the model sees" in [c.value for c in app.caption]
        assert len(app.image) == 1  # the 28×28 model input, blown up


def test_draw_page_says_not_sure_exactly_when_the_reader_is(app: AppTest, mnist, predictor):
    # A 4 written over a 9: some such blends read clearly, some do not; check both kinds.
    fours = mnist.x_test[mnist.y_test == 4][:20].astype(np.float32)
    nines = mnist.x_test[mnist.y_test == 9][:20].astype(np.float32)
    seen = set()
    for four, nine in zip(fours, nines, strict=True):
        rgba = canvas_rgba(np.maximum(four, nine).astype(np.uint8))
        reading = read_canvas(rgba, predictor, single=True)  # as in "One digit" mode
        if reading is None or reading.sure in seen:
            continue
        seen.add(reading.sure)
        app.session_state["draw_image"] = rgba
        _run(app)
        warnings = [w.value for w in app.warning]
        assert _metric(app, "Prediction") == reading.text
        assert bool(warnings) is not reading.sure
        if warnings:
            assert warnings[0].startswith("Not sure")
    assert seen == {True, False}, "no blend gave both a sure and an unsure reading"


def test_a_confident_reading_of_an_unusual_shape_says_why_it_is_not_sure(app: AppTest,
                                                                         predictor) -> None:
    # A zig-zag or a scrawl the network reads at 90 % or more but unlike the digits of
    # its class: "it could be a 7 (0 %)" would explain nothing.
    for sample in scribble_samples(100):
        reading = read_canvas(sample.image, predictor, single=True)
        if reading is not None and reading.digits[0].unusual:
            break
    else:
        pytest.fail("no scribble was read confidently yet not sure")
    found = reading.digits[0]
    assert found.confidence >= SETTINGS.min_confidence and not found.sure
    app.session_state["draw_image"] = sample.image
    _run(app)
    assert _metric(app, "Prediction") == str(found.digit)
    assert [w.value for w in app.warning] == [
        f"Not sure: the model reads a {found.digit}, but this shape is unlike the "
        f"{found.digit}s it learned from."]


def test_number_mode_reads_several_digits_side_by_side(app: AppTest, mnist):
    digits = dict(_first_of_each_class(mnist))
    app.button_group(key="draw_mode").set_value("A number")
    _run(app)
    app.session_state["draw_image"] = canvas_rgba([digits[3], digits[0], digits[7]],
                                                  size=240, width=640)
    _run(app)
    assert _metric(app, "Prediction") == "307"
    captions = [caption for img in app.image for caption in img.captions]
    assert [c.split(" · ")[0] for c in captions] == ["3", "0", "7"]
    # Each crop shows its confidence; one under the sure bar (90 %: this 3 reads 86 %)
    # is flagged as well.
    assert all(c.split(" · ")[1].endswith("%") for c in captions)
    assert all(c.endswith(("%", "not sure")) for c in captions)


def test_clear_empties_the_prediction(app: AppTest, mnist):
    app.session_state["draw_image"] = canvas_rgba(mnist.x_test[0])
    _run(app)
    assert _metric(app, "Prediction") == str(mnist.y_test[0])
    app.button(key="draw_clear").click()
    _run(app)
    assert _metric(app, "Prediction") == "–"


# --- upload page -------------------------------------------------------------------------


def test_upload_reads_a_multi_digit_scan(upload: AppTest, labels: dict[str, str]):
    upload.file_uploader(key="upload_files").set_value([_file("invoice_total.png")])
    _run(upload)
    assert [c.value for c in upload.code] == [labels["invoice_total.png"]]
    assert not upload.error


def test_upload_says_when_a_digit_may_be_two(upload: AppTest, predictor):
    # A number written without lifting the pen, a mark read as one digit that may be two.
    page, _ = a_digit_that_may_be_two(predictor)
    picture = io.BytesIO()
    Image.fromarray(page).save(picture, format="PNG")
    upload.file_uploader(key="upload_files").set_value([("joined.png", picture.getvalue(),
                                                         "image/png")])
    _run(upload)
    assert any("may be two digits written together" in w.value for w in upload.warning)


def test_upload_reads_phone_photos_heic_and_avif(upload: AppTest, labels: dict[str, str]):
    """iPhones save photos as HEIC, newer phones and browsers as AVIF."""
    name = "invoice_total.png"
    picture = Image.open(SAMPLES_DIR / name).convert("RGB")
    heic, avif = io.BytesIO(), io.BytesIO()
    pillow_heif.from_pillow(picture).save(heic, quality=85)
    picture.save(avif, format="AVIF", quality=85)
    upload.file_uploader(key="upload_files").set_value([
        ("IMG_0001.HEIC", heic.getvalue(), "image/heic"),
        ("photo.avif", avif.getvalue(), "image/avif")])
    _run(upload)
    assert not upload.error, [e.value for e in upload.error]
    assert [c.value for c in upload.code] == [labels[name]] * 2


def test_upload_batch_reports_a_bad_file_and_still_reads_the_rest(upload: AppTest, labels):
    upload.file_uploader(key="upload_files").set_value([
        ("broken.png", b"these bytes are no picture", "image/png"),
        _file("two_line_note.png"),
    ])
    _run(upload)
    errors = [e.value for e in upload.error]
    assert len(errors) == 1
    assert errors[0].count(".") == 1 and errors[0].endswith(".")
    assert [c.value for c in upload.code] == [labels["two_line_note.png"]]
    table = upload.dataframe[0].value
    assert list(table["file"]) == ["broken.png", "two_line_note.png"]
    assert list(table["text"]) == ["", labels["two_line_note.png"]]
    assert table["error"][0] == errors[0]
    assert len(upload.get("download_button")) == 1


def test_a_big_batch_gets_a_table_and_one_folded_panel_per_file(upload: AppTest, labels):
    names = sorted(labels)
    assert len(names) > 3, "the batch must be big enough to fold its panels"
    upload.file_uploader(key="upload_files").set_value([_file(name) for name in names])
    _run(upload)
    table = upload.dataframe[0].value
    assert list(table["file"]) == names
    assert list(table["text"]) == [labels[name] for name in names]
    assert (table["min confidence"] > 0).all() and (table["error"] == "").all()
    panels = [e.label for e in upload.expander]
    assert [p.split(" · ")[:2] for p in panels] == [[n, labels[n]] for n in names]


def test_try_a_sample_reads_it_without_uploading(upload: AppTest, labels):
    upload.selectbox(key="upload_sample").select("house_number.png")
    _run(upload)
    assert [c.value for c in upload.code] == [labels["house_number.png"]]
    assert any("the reading matches it" in c.value for c in upload.caption)


def test_single_digit_switch_reads_the_image_as_one_digit(upload: AppTest, mnist):
    digit = 255 - mnist.x_test[0]  # dark ink on white paper
    buffer = io.BytesIO()
    Image.fromarray(digit).resize((112, 112)).save(buffer, format="PNG")
    upload.toggle(key="upload_single").set_value(True)
    upload.file_uploader(key="upload_files").set_value([("digit.png", buffer.getvalue(),
                                                        "image/png")])
    _run(upload)
    assert [c.value for c in upload.code] == [str(mnist.y_test[0])]


# --- sample scans ------------------------------------------------------------------------


def test_sample_scans_are_reproduced_exactly_by_their_generator(mnist, labels, tmp_path: Path):
    assert write_samples(mnist, tmp_path, seed=DEFAULT_SEED) == labels
    assert sorted(labels) == sorted(p.name for p in SAMPLES_DIR.glob("*.png"))
    for name in labels:
        assert (tmp_path / name).read_bytes() == (SAMPLES_DIR / name).read_bytes(), name
