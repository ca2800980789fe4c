"""The digit CNN: a declarative Keras builder whose width and depth are parameters."""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from model.settings import SETTINGS

INPUT_SHAPE = (SETTINGS.image_size, SETTINGS.image_size, 1)
# Faster than Keras' 0.99, so the inference statistics settle within short classroom runs.
BN_MOMENTUM = 0.9


def default_convs(blocks: int) -> tuple[int, ...]:
    """One convolution per block and two in the deepest.

    Measured with ONNX Runtime on 2 cores: a second convolution at 28x28 costs as much
    as two at 7x7 while adding little, so the work goes where the features are abstract.
    """
    return (1,) * (blocks - 1) + (2,)


def conv_block(filters: int, convs: int, kernel_size: int, dropout: float,
               index: int) -> list[layers.Layer]:
    """`convs` same-padded convolutions, then 2x2 pooling.

    Two stacked 3x3 convolutions see a 5x5 field with fewer weights than one 5x5;
    batch normalisation lets the short CPU schedule use a high learning rate.
    """
    block: list[layers.Layer] = []
    for j in range(convs):
        block += [
            layers.Conv2D(filters, kernel_size, padding="same", use_bias=False,
                          name=f"conv{index}_{j}"),
            layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"bn{index}_{j}"),
            layers.Activation("relu", name=f"relu{index}_{j}"),
        ]
    block += [
        layers.MaxPooling2D(2, name=f"pool{index}"),
        layers.Dropout(dropout, name=f"drop{index}"),
    ]
    return block


def build_cnn(
    filters: Sequence[int] = (16, 32, 64),
    convs: Sequence[int] | None = None,
    kernel_size: int = 3,
    dropout: float = 0.2,
    dense_units: int = 128,
    name: str = "digit_cnn",
) -> keras.Sequential:
    """Build the classifier: one conv block per entry of `filters`, then a dense head.

    `filters` sets both the depth (number of blocks) and the hidden channels of
    each block, so (2,), (5,), (10,), (20,), (32,) reproduce a channel-width study.
    `convs` gives the convolutions per block (default: `default_convs`).
    The output is a softmax over the ten digits; inputs are (28, 28, 1) in [0, 1].
    """
    if not filters:
        raise ValueError("filters must name at least one convolution block.")
    convs = tuple(convs) if convs else default_convs(len(filters))
    if len(convs) != len(filters) or min(convs) < 1:
        raise ValueError(f"convs needs one positive count per block of {tuple(filters)}, "
                         f"got {convs}.")
    stack: list[layers.Layer] = [keras.Input(shape=INPUT_SHAPE, name="image")]
    for i, (f, n) in enumerate(zip(filters, convs, strict=True)):
        stack += conv_block(int(f), int(n), kernel_size, dropout, i)
    stack += [
        layers.Flatten(name="flatten"),
        layers.Dense(dense_units, use_bias=False, name="dense"),
        layers.BatchNormalization(momentum=BN_MOMENTUM, name="dense_bn"),
        layers.Activation("relu", name="embedding"),  # the penultimate layer the data map uses
        layers.Dropout(min(2 * dropout, 0.5), name="dense_drop"),
        layers.Dense(SETTINGS.num_classes, activation="softmax", name="probabilities"),
    ]
    return keras.Sequential(stack, name=name)
