"""Marks that are not one digit, taught as such: two digits touching, as the reader sees them.

The network has ten outputs and no "not a digit" class, and a network trained on
single digits is sure of almost anything: two digits written so close that their
strokes touch are one mark, and it reads "68" as a confident 8. The reader can cut
such a mark (`model.reader.options`), but the cut must beat the whole mark's probability,
so "68" stayed an 8 (the `touching` set of `training.realworld`: 49.5 %).

Outlier exposure (Hendrycks et al., 2019) teaches the network to hedge on what is not
one digit: each touching pair is a training example whose target is every digit
equally (label NOT_ONE_DIGIT; `training.objective.digit_loss`). The pairs are MNIST and
USPS *train* digits (the USPS ones inked as the form fields ink them,
`training.usps_pictures.usps_ink`), slid together until their strokes touch
(`touching_pair`, as the evaluation's pairs of MNIST *test* digits) and read through the
reader in single-digit mode, as a mark the reader might read whole. They are trained on
only: validation scores digits, which have a right answer (with the pairs in it, their
loss, which cannot fall below log 10, was most of the validation loss, and early
stopping ended a run at epoch 39 while its digits were still improving).
"""

from __future__ import annotations

import numpy as np

NOT_ONE_DIGIT = 10  # the label of a mark that is not one digit
HEIGHTS = (40, 110)  # digit height in pixels
OVERLAP_PX = (0, 3)  # slid this much further once the strokes touch
USPS_SHARE = 0.4  # of the pairs, two USPS train digits (the rest: two MNIST train digits)


def touching_pairs(count: int, seed: int) -> np.ndarray:
    """`count` touching pairs as the network sees them: uint8 (N, 28, 28)."""
    from model.reader.imaging import ReadError
    from training.data import load_mnist
    from training.styles import to_network_input
    from training.synthetic_scans import render_digit, touching_pair
    from training.usps import load_usps
    from training.usps_pictures import usps_ink

    rng = np.random.default_rng(seed)
    mnist, usps = load_mnist().x_train, load_usps("train").images
    images = []
    while len(images) < count:
        height = int(rng.integers(*HEIGHTS, endpoint=True))
        if rng.random() < USPS_SHARE:
            first, second = (usps_ink(usps[i], height)
                             for i in rng.choice(len(usps), 2, replace=False))
        else:
            first, second = (render_digit(mnist[i], height)
                             for i in rng.choice(len(mnist), 2, replace=False))
        page = touching_pair(first, second, overlap=int(rng.integers(*OVERLAP_PX, endpoint=True)))
        try:
            images.append(np.round(to_network_input(page) * 255).astype(np.uint8))
        except ReadError:  # too faint to find: draw another pair
            continue
    return np.stack(images)

