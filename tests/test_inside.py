"""Looking inside the network: the ONNX probe against Keras, and the page in AppTest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from model.inside import analyse, load_inspector, nearest, occlusions
from model.layout import fit_pca
from model.settings import SETTINGS
from training.data import to_model_input
from training.synthetic_scans import canvas_rgba

APP = str(Path(__file__).resolve().parent.parent / "app.py")
RUN_TIMEOUT_S = 120  # the first look computes features of 13,000 MNIST digits


@pytest.fixture(scope="module")
def inspector(shipped_dir: Path):
    return load_inspector(shipped_dir)


def test_the_graph_gives_every_convolution_with_its_layer_name(inspector, shipped_dir):
    import onnx

    convs = inspector.anatomy.convs
    graph = onnx.load(str(shipped_dir / SETTINGS.onnx_file)).graph
    assert len(convs) == sum(node.op_type == "Conv" for node in graph.node)
    assert all(c.name.startswith("conv") and len(c.shape) == 3 for c in convs)
    assert [c.block for c in convs] == sorted(c.block for c in convs)
    assert convs[0].shape[1:] == (SETTINGS.image_size, SETTINGS.image_size)
    assert inspector.filters.shape[0] == convs[0].shape[0]
    assert analyse(graph)[3] == inspector.anatomy.embedding_name


def test_the_probe_agrees_with_the_predictor(inspector, predictor, mnist):
    images = to_model_input(mnist.x_test[:64])
    _, proba = inspector.features(images)
    np.testing.assert_allclose(proba, predictor.predict_proba(images), atol=1e-5)
    look = inspector.look(images[0][..., 0])
    np.testing.assert_allclose(look.proba, proba[0], atol=1e-5)
    assert look.digit == mnist.y_test[0]


def test_the_probe_matches_the_keras_layers(inspector, shipped_dir, mnist):
    """Feature maps and embedding equal Keras' own layer outputs (TensorFlow only here)."""
    import keras

    network = keras.saving.load_model(shipped_dir / SETTINGS.keras_file, compile=False,
                                      safe_mode=True)
    look = inspector.look(to_model_input(mnist.x_test[:1])[0, ..., 0])
    names = [c.name.replace("conv", "relu") for c in inspector.anatomy.convs]
    probe = keras.Model(network.inputs, [network.get_layer(n).output for n in names]
                        + [network.get_layer(inspector.anatomy.embedding_name).output])
    *maps, embedding = probe([to_model_input(mnist.x_test[:1])], training=False)
    for (_, ours), theirs in zip(look.maps, maps, strict=True):
        np.testing.assert_allclose(ours, np.transpose(theirs[0], (2, 0, 1)), atol=1e-4)
    np.testing.assert_allclose(look.embedding, embedding[0], atol=1e-4)


def test_occlusion_blanks_each_square_once_and_the_saliency_sits_on_the_ink(inspector, mnist):
    image = to_model_input(mnist.x_test[:1])[0, ..., 0]
    occluded, cover = occlusions(image)
    assert occluded.shape == cover.shape and len(cover) == 14 * 14
    assert cover.any(axis=0).all()  # every pixel is covered by some square
    saliency = inspector.look(image).saliency
    ink = image > 0.5
    assert saliency[ink].mean() > 5 * np.abs(saliency[~ink]).mean()


def test_nearest_and_pca():
    bank = np.array([[1, 0], [0, 1], [1, 1], [2, 0.1]], np.float32)
    assert list(nearest(np.array([1, 0]), bank, k=2)) == [0, 3]
    projection = fit_pca(np.array([[0, 0, 0], [2, 0, 0], [4, 0, 1e-3]], float))
    coords = projection(np.array([[1, 0, 0]]))
    assert projection.explained[0] > 0.99 and abs(abs(coords[0, 0]) - 1) < 1e-3


# --- the page --------------------------------------------------------------------------


def _block_keys(app: AppTest) -> list[str]:
    keys, pending = [], [app._tree]
    while pending:
        node = pending.pop()
        if isinstance(getattr(node, "key", None), str) and hasattr(node, "children"):
            keys.append(node.key)
        pending += list(getattr(node, "children", {}).values())
    return keys


def _block(app: AppTest, key: str):
    pending = [app._tree]
    while pending:
        node = pending.pop()
        if getattr(node, "key", None) == key and hasattr(node, "children"):
            return node
        pending += list(getattr(node, "children", {}).values())
    raise AssertionError(f"no container {key!r}")


def test_look_inside_shows_every_block_and_neighbours_of_the_same_digit(inspector, mnist):
    index = int(np.flatnonzero(mnist.y_test == 3)[0])  # a clear 3 from the test set
    app = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT_S)
    app.run()
    app.session_state["draw_image"] = canvas_rgba(mnist.x_test[index])
    app.run()  # the draw page reads it and hands it on
    assert not app.exception, [e.message for e in app.exception]
    app.switch_page("pages/inside.py")
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.title[0].value == "Look inside the network"
    assert not app.info  # it follows the drawing, not the fallback test digit
    headings = [m.value for m in app.markdown]
    keys = _block_keys(app)
    for conv in inspector.anatomy.convs:
        assert f"inside_block_{conv.name}" in keys
        c, h, w = conv.shape
        assert any(f"`{conv.name}`" in t and f"{c} maps of {h}×{w}" in t for t in headings)
    assert any("Dense layer" in t for t in headings)
    assert any("filters" in t for t in headings)
    assert any("occlusion" in t for t in headings)
    charts = [c.proto.spec for c in app.get("plotly_chart")]
    assert len(charts) == 3  # softmax, dense activations, the map with the star
    assert '"your digit"' in charts[2]
    labels = [c for image in _block(app, "inside_neighbours").get("image") for c in image.captions]
    assert labels == ["label 3"] * 5


def test_tsne_separates_the_digits_better_than_pca(inspector, mnist):
    from model.layout import neighbour_separation, tsne_2d

    images = to_model_input(mnist.x_test[:300])
    features, _ = inspector.features(images)
    labels = mnist.y_test[:300]
    pca = fit_pca(features)(features)
    tsne = tsne_2d(features)
    assert tsne.shape == (300, 2)
    assert neighbour_separation(tsne, labels) > neighbour_separation(pca, labels)
    assert neighbour_separation(tsne, labels) > 0.9
