"""What training minimises and reports, with marks that are not one digit in the mix.

A digit's target is its class; a mark that is not one digit (label NOT_ONE_DIGIT, the
touching pairs of `training.outliers`) has every class equally as its target, so the
network learns to spread its probability over such marks instead of being sure of one
digit (outlier exposure). Accuracy counts the digits only. Imported by `training.train`
once TensorFlow has work to do.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from model.settings import SETTINGS
from training.outliers import NOT_ONE_DIGIT


def digit_loss(y_true: Any, y_pred: Any) -> Any:
    """Cross-entropy against the digit, or against all classes equally for a mark that
    is not one digit. For digits it is Keras's sparse cross-entropy itself, so a mix
    without pairs trains exactly as before."""
    labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
    pair = labels == NOT_ONE_DIGIT
    own = keras.losses.sparse_categorical_crossentropy(ops.where(pair, 0, labels), y_pred)
    even = ops.full_like(y_pred, 1.0 / SETTINGS.num_classes)
    return ops.where(pair, keras.losses.categorical_crossentropy(even, y_pred), own)


class DigitAccuracy(keras.metrics.SparseCategoricalAccuracy):
    """Accuracy over the digits of a batch; marks that are not one digit have no answer."""

    def __init__(self, name: str = "accuracy", **kwargs: Any) -> None:
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> Any:
        labels = ops.reshape(ops.cast(y_true, "int32"), (-1,))
        digits = ops.cast(labels != NOT_ONE_DIGIT, "float32")
        if sample_weight is not None:
            digits = digits * ops.reshape(ops.cast(sample_weight, "float32"), (-1,))
        return super().update_state(ops.minimum(labels, NOT_ONE_DIGIT - 1), y_pred, digits)
