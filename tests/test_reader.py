"""The digit reader end to end: real MNIST test digits on synthetic pages, the real model."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from model.reader import (
    DigitReading,
    NoDigitError,
    Reading,
    read_canvas,
    read_digits,
)
from model.reader.classify import STEADY_ENOUGH
from model.reader.likeness import nudges
from model.settings import SETTINGS
from training.synthetic_scans import (
    PageStyle,
    PhotoStyle,
    canvas_rgba,
    compose_page,
    photograph,
    render_digit,
    touching_pair,
)


def _labels(mnist, indices) -> str:
    return "".join(str(mnist.y_test[i]) for i in indices)


def _scan(mnist, rows, rng, style: PageStyle | None = None,
          photo: PhotoStyle | None = None) -> np.ndarray:
    page, _ = compose_page([[mnist.x_test[i] for i in row] for row in rows],
                           style or PageStyle(), rng)
    return photograph(page, photo or PhotoStyle(), rng)


# --- invariance ------------------------------------------------------------------------

@pytest.mark.parametrize("scale", [4, 6, 8, 10])
def test_brush_width_and_scale_invariance(scale, mnist, clear, predictor) -> None:
    """A digit upscaled x4..x10 and drawn with thin to thick pens reads as its label.

    Redrawn with another pen, a digit can turn ambiguous (a crossed 7 drawn thick looks
    like a 2): at most one of 18 may be misread, and only with "not sure".
    """
    rng = np.random.default_rng(scale)
    height = scale * 20
    right = 0
    for i in clear[scale * 10: scale * 10 + 6]:
        for pen in (None, 0.03 * height, 0.15 * height):
            image = _scan(mnist, [[i]], rng, PageStyle(digit_height=height, pen=pen))
            reading = read_digits(image, predictor)
            right += reading.text == str(mnist.y_test[i])
            assert reading.text == str(mnist.y_test[i]) or not reading.sure, (i, pen)
    assert right >= 17


def test_polarity_does_not_matter(mnist, clear, predictor) -> None:
    rng = np.random.default_rng(1)
    picked = clear[100:104]
    scan = _scan(mnist, [picked], rng, photo=PhotoStyle(noise=0.02))
    assert read_digits(scan, predictor).text == _labels(mnist, picked)
    assert read_digits(255 - scan, predictor).text == _labels(mnist, picked)


# --- pages -----------------------------------------------------------------------------

def test_multi_digit_order_and_boxes(mnist, clear, predictor) -> None:
    rng = np.random.default_rng(3)
    for n in range(3, 7):
        picked = rng.choice(clear, n, replace=False)
        page, boxes = compose_page([[mnist.x_test[i] for i in picked]],
                                   PageStyle(gap=float(rng.uniform(0.15, 0.5))), rng)
        reading = read_digits(page, predictor)
        assert reading.text == _labels(mnist, picked)
        assert (reading.width, reading.height) == (page.shape[1], page.shape[0])
        for digit, (x, y, w, h) in zip(reading.digits, boxes[0], strict=True):
            assert abs(digit.box[0] - x) <= 2 and abs(digit.box[1] - y) <= 2
            assert abs(digit.box[2] - w) <= 3 and abs(digit.box[3] - h) <= 3


def test_boxes_are_in_original_pixels_for_big_photos(mnist, clear, predictor) -> None:
    """A 12 MP-class photo is analysed downscaled; boxes still refer to its own pixels."""
    picked = clear[200:203]
    page, boxes = compose_page([[mnist.x_test[i] for i in picked]],
                               PageStyle(digit_height=800, gap=0.4, pen=40))
    assert max(page.shape) > 2000
    reading = read_digits(page, predictor)
    assert reading.text == _labels(mnist, picked)
    for digit, (x, y, w, h) in zip(reading.digits, boxes[0], strict=True):
        bx, by, bw, bh = digit.box
        assert abs(bx - x) <= 6 and abs(by - y) <= 6
        assert abs(bx + bw - x - w) <= 6 and abs(by + bh - y - h) <= 6


def test_two_rows_read_in_line_order(mnist, clear, predictor) -> None:
    rng = np.random.default_rng(4)
    top, bottom = clear[300:304], clear[304:307]
    scan = _scan(mnist, [top, bottom], rng, PageStyle(line_gap=0.5),
                 PhotoStyle(tilt_deg=2.0, noise=0.02, shading=0.2))
    reading = read_digits(scan, predictor)
    assert reading.text == f"{_labels(mnist, top)} {_labels(mnist, bottom)}"
    assert reading.lines == (_labels(mnist, top), _labels(mnist, bottom))
    assert [d.line for d in reading.digits] == [0] * 4 + [1] * 3


def test_phone_photo_effects(mnist, clear, predictor) -> None:
    """Tilt, uneven light, grain, blur and JPEG: the reader still gets the numbers.

    Redrawn with a thin pen, an 8 whose lower loop was a blot can lose the loop: at
    most one of the 8 numbers may be misread, and then it must say it is not sure.
    """
    rng = np.random.default_rng(5)
    right = 0
    for k in range(8):
        picked = rng.choice(clear, 4, replace=False)
        photo = PhotoStyle(tilt_deg=float(rng.uniform(-4, 4)), shading=0.35, noise=0.03,
                           blur=0.8, jpeg_quality=70)
        style = PageStyle(digit_height=int(rng.integers(40, 160)), ink=0.3, paper=0.85,
                          pen=None if k % 2 else 4.0)
        reading = read_digits(_scan(mnist, [picked], rng, style, photo), predictor)
        right += reading.text == _labels(mnist, picked)
        assert reading.text == _labels(mnist, picked) or not reading.sure
    assert right >= 7


def test_synthetic_scans_accuracy(mnist, predictor) -> None:
    """Single digits (all test digits, model errors included) as scans and pen drawings."""
    rng = np.random.default_rng(6)
    picked = rng.choice(len(mnist.y_test), 120, replace=False)
    right = 0
    for k, i in enumerate(picked):
        height = int(rng.integers(28, 240))
        style = PageStyle(digit_height=height, pen=None if k % 2 else height * 0.05,
                          margin=float(rng.uniform(0.1, 1.0)))
        photo = PhotoStyle(tilt_deg=float(rng.uniform(-5, 5)), shading=float(rng.uniform(0, 0.3)),
                           noise=float(rng.uniform(0, 0.03)), jpeg_quality=85)
        right += read_digits(_scan(mnist, [[i]], rng, style, photo), predictor).text == \
            str(mnist.y_test[i])
    assert right / len(picked) >= 0.95


# --- merging, splitting, single ----------------------------------------------------------

def test_a_digit_broken_by_a_gap_stays_one_digit(mnist, clear, predictor) -> None:
    for i in clear[400:410]:
        ink = render_digit(mnist.x_test[i], 120)
        middle = ink.shape[0] // 2
        ink[middle - 2: middle + 2] = 0  # a scanner gap across the whole digit
        page = np.pad(1.0 - ink, 40, constant_values=1.0)
        reading = read_digits((page * 255).astype(np.uint8), predictor)
        assert len(reading.digits) == 1


def _strokes(size: int, lines: list[list[tuple[int, int]]], width: int = 10) -> np.ndarray:
    page = np.full((size, size), 255, np.uint8)
    for points in lines:
        cv2.polylines(page, [np.array(points, np.int32)], False, 0, width, cv2.LINE_AA)
    return page


@pytest.mark.parametrize(("digit", "strokes"), [
    (4, [[(70, 40), (50, 150), (170, 150)], [(140, 60), (140, 240)]]),  # 4 in two strokes
    (5, [[(90, 60), (80, 130), (150, 135), (165, 190), (130, 235), (70, 225)],
         [(100, 52), (175, 48)]]),  # 5 with a loose bar
    (7, [[(60, 50), (180, 50), (110, 250)], [(90, 150), (170, 150)]]),  # 7 with a bar
])
def test_two_stroke_digits_are_one_digit(digit, strokes, predictor) -> None:
    reading = read_digits(_strokes(300, strokes), predictor)
    assert len(reading.digits) == 1
    assert reading.text == str(digit)


def test_touching_digits_are_separated(mnist, clear, predictor) -> None:
    """Digits whose strokes touch (one connected mark) are cut apart where the reader can.

    Cutting needs evidence (halves of one digit often look like digits too), so not
    every pair is separated: the shipped model gets 9 of these 20, the floor. A pair is
    read as at most two digits, but for one known case at most: a 4 whose bar lines up
    with the bowl of the 6 beside it is taken for a printed line and taken out, and the
    pair falls apart into two lines of pieces (docs/reader-log.md, "Form fields").
    """
    right = broken = 0
    for k in range(20):
        first, second = clear[500 + 2 * k: 502 + 2 * k]
        page = touching_pair(render_digit(mnist.x_test[first], 80),
                             render_digit(mnist.x_test[second], 80), overlap=1)
        assert cv2.connectedComponents((page < 128).astype(np.uint8))[0] == 2  # one mark
        reading = read_digits(page, predictor)
        broken += len(reading.digits) > 2
        right += reading.text == _labels(mnist, [first, second])
    assert broken <= 1
    assert right >= 9


def test_single_reads_all_ink_as_one_digit(mnist, clear, predictor) -> None:
    picked = clear[600:602]
    page, boxes = compose_page([[mnist.x_test[i] for i in picked]])
    assert len(read_digits(page, predictor).digits) == 2
    single = read_digits(page, predictor, single=True)
    (first, second), (x, _, w, _) = boxes[0], single.digits[0].box
    assert len(single.digits) == 1
    assert abs(x - first[0]) <= 2 and abs(x + w - second[0] - second[2]) <= 2


# --- canvas, abstention, results ---------------------------------------------------------

def test_canvas_reads_strokes_and_blank_is_none(mnist, clear, predictor) -> None:
    """Brushes of 10-28 px, digits filling half to 80 % of the canvas.

    One of these 20 is a 0 lying flat (1.7 times as wide as tall, rarer than 1 in
    1,000 MNIST digits), which the reader may take for two touching digits.
    """
    right = 0
    for k, i in enumerate(clear[700:720]):
        rgba = canvas_rgba(mnist.x_test[i], brush=10 + 2 * k % 20, fill=0.5 + k % 4 * 0.1)
        reading = read_canvas(rgba, predictor)
        assert reading is not None
        right += reading.text == str(mnist.y_test[i])
    assert right >= 19
    assert read_canvas(np.zeros((280, 280, 4), np.uint8), predictor) is None
    painted = np.full((280, 280, 4), 255, np.uint8)  # an opaque white background
    assert read_canvas(painted, predictor) is None
    one = canvas_rgba(mnist.x_test[clear[0]])
    assert read_canvas(one, predictor, single=True).text == str(mnist.y_test[clear[0]])


def test_noise_and_scribbles_are_not_confident_digits(predictor) -> None:
    rng = np.random.default_rng(9)
    with pytest.raises(NoDigitError):
        read_digits(rng.integers(0, 256, (200, 200), dtype=np.uint8), predictor)
    scribble = _strokes(300, [rng.integers(20, 280, (14, 2)).tolist()], width=4)
    try:
        reading = read_digits(scribble, predictor)
    except NoDigitError:
        return
    assert not reading.sure


def test_reading_fields(mnist, clear, predictor) -> None:
    picked = clear[800:803]
    page, _ = compose_page([[mnist.x_test[i] for i in picked]])
    reading = read_digits(page, predictor)
    assert isinstance(reading, Reading) and reading.sure
    for digit, i in zip(reading.digits, picked, strict=True):
        assert isinstance(digit, DigitReading)
        assert digit.digit == mnist.y_test[i] == int(np.argmax(digit.probabilities))
        assert digit.confidence == pytest.approx(float(digit.probabilities.max()))
        assert digit.probabilities.shape == (10,)
        assert digit.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        assert digit.image.shape == (28, 28) and digit.image.dtype == np.float32
        assert digit.sure == (digit.confidence >= SETTINGS.min_confidence)
        assert all(isinstance(v, int) for v in digit.box)
    # What the network saw is exactly what it scored (`_expected_probabilities`).
    _, expected = _expected_probabilities(predictor, np.stack([d.image for d in reading.digits]))
    assert np.allclose(expected, np.stack([d.probabilities for d in reading.digits]), atol=1e-5)


def _expected_probabilities(predictor, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The network's own probabilities on `images`, and what a reading should hold: those,
    averaged with the six nudges' unless the network is all but certain."""
    own = predictor.predict_proba(images)
    moved = predictor.predict_proba(nudges(images).reshape(-1, 28, 28))
    averaged = (own + moved.reshape(len(images), -1, 10).sum(axis=1)) / 7
    return own, np.where(own.max(axis=1, keepdims=True) >= STEADY_ENOUGH, own, averaged)


def test_a_digit_the_network_is_unsure_of_is_read_from_its_nudges_too(predictor) -> None:
    # Test-time averaging: the reading of a digit under STEADY_ENOUGH is the mean of the
    # network's probabilities on its image and on the image's six nudges, so the digit
    # read can differ from the image's own top class.
    from training.usps_pictures import usps_samples

    averaged = 0
    for sample in usps_samples("test", 300):
        digit = read_digits(sample.image, predictor, single=True).digits[0]
        own, expected = (row[0] for row in _expected_probabilities(predictor, digit.image[None]))
        assert np.allclose(digit.probabilities, expected, atol=1e-5)
        if own.max() >= STEADY_ENOUGH:
            continue
        assert digit.digit == int(np.argmax(digit.probabilities))
        averaged += 1
    assert averaged >= 20
