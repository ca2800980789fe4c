"""The evaluate and data pages run in Streamlit's AppTest, with the real MNIST and without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pages.common.evaluation import GALLERY_MAX, NO_DATA
from training.data import prepare
from training.evaluate import evaluate

APP = str(Path(__file__).resolve().parent.parent / "app.py")
# Predicting 10,000 digits and, on the data page, importing TensorFlow take a while on a
# busy 2-core machine; the benchmark, not this limit, says how fast they are.
RUN_TIMEOUT_S = 300


def _run(page: str) -> AppTest:
    """The app opened on `page` (a file in pages/), through app.py as a visitor sees it."""
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.run()
    app.switch_page(f"pages/{page}")
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def _block(app: AppTest, key: str) -> Any:
    """The container the page created with `key` (AppTest has no lookup by container key)."""
    pending = [app._tree]
    while pending:
        node = pending.pop()
        if getattr(node, "key", None) == key and hasattr(node, "children"):
            return node
        pending += list(getattr(node, "children", {}).values())
    raise AssertionError(f"no container with key {key!r} on the page")


def _captions(app: AppTest, key: str) -> list[str]:
    return [c for image in _block(app, key).get("image") for c in image.captions]


@pytest.fixture(scope="module")
def shipped_report(predictor, mnist) -> dict[str, Any]:
    """The shipped model's results, computed here independently of the pages."""
    return evaluate(predictor, mnist)


@pytest.fixture
def no_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine without MNIST: an empty MNIST_DIR and an empty download cache."""
    (tmp_path / "mnist").mkdir()
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "mnist"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def test_evaluate_page_reports_the_shipped_model(shipped_dir, mnist_dir, shipped_report):
    app = _run("evaluate.py")
    assert app.selectbox(key="eval_model").value == shipped_dir
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Accuracy"] == f"{shipped_report['accuracy']:.2%}"
    assert metrics["Errors"] == f"{shipped_report['errors']:,} of 10,000"
    table = app.dataframe[0].value
    assert list(table["support"]) == [m["support"] for m in shipped_report["per_class"].values()]
    # The gallery opens on the most common mistake.
    cm = np.array(shipped_report["confusion_matrix"])
    off = cm.copy()
    np.fill_diagonal(off, -1)
    true, pred = divmod(int(off.argmax()), 10)
    assert (app.selectbox(key="cell_true").value, app.selectbox(key="cell_pred").value) == (
        true, pred)
    assert len(_captions(app, "cell_gallery")) == min(cm[true, pred], GALLERY_MAX)


def test_choosing_true_5_predicted_3_shows_exactly_those_images(mnist, shipped_report):
    app = _run("evaluate.py")
    app.selectbox(key="cell_true").set_value(5)
    app.selectbox(key="cell_pred").set_value(3)
    app.run()
    assert not app.exception
    expected = int(np.array(shipped_report["confusion_matrix"])[5, 3])
    heading = next(m.value for m in app.markdown if "test images of a" in m.value)
    assert heading.startswith(f"**{expected:,}** test images of a **5** predicted as **3**")
    captions = _captions(app, "cell_gallery")
    assert len(captions) == min(expected, GALLERY_MAX)
    for caption in captions:
        index = int(caption.split(" ")[0].lstrip("#"))
        assert mnist.y_test[index] == 5 and caption.split(" · ")[2].startswith("3 ")


def test_evaluate_page_sample_views_and_reshuffle(mnist):
    app = _run("evaluate.py")
    first = _captions(app, "sample_gallery")
    assert len(first) == 20 and all(
        mnist.y_test[int(c.split(" ")[0][1:])] != int(c.split(" · ")[2][0]) for c in first)
    app.button(key="sample_reshuffle").click().run()
    assert _captions(app, "sample_gallery") != first
    app.button_group(key="sample_kind").set_value("Most confident mistakes").run()
    tops = [int(c.split(" · ")[2].split(" ")[1].rstrip("%")) for c in
            _captions(app, "sample_gallery")]
    assert tops == sorted(tops, reverse=True)


def test_comparing_a_model_with_its_copy_finds_no_disagreements(
        shipped_dir, shipped_report, tmp_path, monkeypatch):
    import dataclasses
    import shutil

    import model.files

    runs = tmp_path / "runs"
    shutil.copytree(shipped_dir, runs / "copy")
    monkeypatch.setattr(model.files, "SETTINGS",
                        dataclasses.replace(model.files.SETTINGS, runs_dir=runs))
    app = _run("evaluate.py")
    app.selectbox(key="compare_model").set_value(runs / "copy").run()
    assert not app.exception, [e.message for e in app.exception]
    metrics = {m.label: m.value for m in app.metric}
    accuracy = f"{shipped_report['accuracy']:.2%}"
    assert metrics[f"A: {shipped_dir.name}"] == metrics["B: copy"] == accuracy
    counts = [m.value for m in app.markdown if "gets right and" in m.value]
    assert [c.split("**")[1] for c in counts] == ["0", "0"]


def test_evaluate_page_without_mnist_shows_the_model_card(no_mnist, predictor):
    app = _run("evaluate.py")
    assert [i.value for i in app.info] == [NO_DATA]
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Accuracy"] == f"{predictor.card['test']['accuracy']:.2%}"
    assert "cell_true" not in [s.key for s in app.selectbox]  # no images, no gallery
    assert len(app.get("plotly_chart")) >= 2  # the card's confusion matrix and reliability


def test_data_page_describes_mnist_and_its_split(mnist, predictor):
    app = _run("data.py")
    # Class distribution, pixel histogram and the map of the test set.
    assert len(app.get("plotly_chart")) == 3
    assert len(app.get("image")) == 2  # the sample grid and the mean digits, one picture each
    hp = predictor.card["hyperparameters"]
    splits = prepare(mnist, hp["validation_split"], hp["seed"], hp.get("limit"))
    table = app.dataframe[0].value.set_index("part")
    digits = [str(d) for d in range(10)]
    assert list(table.loc["validation", digits]) == list(np.bincount(splits.y_val, minlength=10))
    assert table.loc["train", "all"] == len(splits.y_train)
    assert table.loc["test", "all"] == 10_000
    app.button(key="data_reshuffle").click().run()
    assert not app.exception


def test_data_page_maps_the_test_set_without_tensorflow_or_a_button(mnist, predictor):
    app = _run("data.py")
    assert "map_button" not in [b.key for b in app.button]
    maps = [c for c in app.get("plotly_chart") if '"component 1"' in c.proto.spec]
    assert len(maps) == 1
    assert any("explain" in c.value for c in app.caption)


def test_data_page_without_mnist_says_how_to_get_it(no_mnist):
    app = _run("data.py")
    assert [i.value for i in app.info] == [NO_DATA]
    assert not app.get("plotly_chart")
