"""The CNN builder: shapes, parameter counts and options follow its arguments."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from model.network import build_cnn, default_convs
from model.settings import SETTINGS

SIDE = SETTINGS.image_size
CLASSES = SETTINGS.num_classes


def expected_params(filters: tuple[int, ...], convs: tuple[int, ...] | None = None,
                    kernel: int = 3, dense: int = 128) -> int:
    """Count the weights by hand: bias-free convs + BN in each block, then the dense head."""
    total, channels, side = 0, 1, SIDE
    for f, n in zip(filters, convs or default_convs(len(filters)), strict=True):
        for _ in range(n):
            total += kernel * kernel * channels * f + 4 * f  # conv + BN (gamma, beta, mean, var)
            channels = f
        side //= 2
    flat = side * side * channels
    return total + flat * dense + 4 * dense + dense * CLASSES + CLASSES


@pytest.mark.parametrize(("filters", "convs"), [
    ((2,), None), ((5,), None), ((32,), None), ((32, 64), None), ((16, 32, 64), None),
    ((16, 32, 64), (2, 2, 2)), ((8, 16), (3, 1)),
])
def test_shapes_and_parameter_count_follow_filters_and_convs(
        filters: tuple[int, ...], convs: tuple[int, ...] | None) -> None:
    net = build_cnn(filters, convs)
    assert net.input_shape == (None, SIDE, SIDE, 1)
    assert net.output_shape == (None, CLASSES)
    assert net.count_params() == expected_params(filters, convs)
    layers = [layer for layer in net.layers if isinstance(layer, keras.layers.Conv2D)]
    per_block = convs or default_convs(len(filters))
    expected = [f for f, n in zip(filters, per_block, strict=True) for _ in range(n)]
    assert [c.filters for c in layers] == expected


def test_default_puts_two_convolutions_in_the_deepest_block_only() -> None:
    assert default_convs(1) == (2,)
    assert default_convs(3) == (1, 1, 2)


@pytest.mark.parametrize("convs", [(1, 2), (1, 0, 2)])
def test_convs_must_match_the_blocks(convs: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="one positive count per block"):
        build_cnn((8, 16, 32), convs)


def test_wider_network_has_more_parameters() -> None:
    counts = [build_cnn((f,)).count_params() for f in (2, 5, 10, 20, 32)]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)


def test_output_is_a_probability_distribution() -> None:
    net = build_cnn((8, 16))
    x = np.random.default_rng(0).random((7, SIDE, SIDE, 1), dtype=np.float32)
    proba = np.asarray(net(x, training=False))
    assert proba.shape == (7, CLASSES)
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)


def test_kernel_size_and_dense_units_are_respected() -> None:
    net = build_cnn((8,), kernel_size=5, dense_units=40)
    conv = net.get_layer("conv0_0")
    assert conv.kernel_size == (5, 5)
    assert net.get_layer("dense").units == 40
    assert net.count_params() == expected_params((8,), kernel=5, dense=40)


def test_embedding_is_the_penultimate_activation() -> None:
    net = build_cnn((8, 16), dense_units=24)
    embedding = net.get_layer("embedding")
    assert embedding.output.shape == (None, 24)
    # Only dropout (inactive at inference) and the softmax layer follow it.
    after = net.layers[net.layers.index(embedding) + 1 :]
    assert [type(layer).__name__ for layer in after] == ["Dropout", "Dense"]
    x = np.random.default_rng(1).random((3, SIDE, SIDE, 1), dtype=np.float32)
    features = keras.Model(net.inputs[0], embedding.output)(x)
    assert (np.asarray(features) >= 0).all()  # ReLU output


def test_empty_filters_is_rejected() -> None:
    with pytest.raises(ValueError, match="at least one"):
        build_cnn(())
