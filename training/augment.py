"""Training-time augmentation that makes MNIST look like people's own handwriting.

People tilt, slant, squash and shift their digits, and pens, brushes and
scanners make strokes thinner or thicker than MNIST's. Each batch gets:
- stroke-thickness variation: a 2x2 grey-level dilation or erosion;
- one random warp per image: rotation, shear, anisotropic scale and translation
  plus a smooth elastic displacement (Simard et al., 2003), resampled once
  bilinearly so the digit is blurred only once.

All randomness is stateless and keyed on (seed, batch index), so a run is
reproducible with the same seed and data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import tensorflow as tf

SIZE = 28
CENTRE = (SIZE - 1) / 2
ELASTIC_GRID = 4  # coarse control grid, upsampled: a smooth, hand-like wobble


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges at strength 1.0; `strength` scales all of them."""

    strength: float = 1.0
    rotation_deg: float = 10.0
    shear: float = 0.15
    scale: float = 0.10
    translate_px: float = 2.0
    elastic_px: float = 0.8
    thickness_prob: float = 0.3


def _uniform(seed: tf.Tensor, shape: list | tf.Tensor, bound: float, salt: int) -> tf.Tensor:
    return tf.random.stateless_uniform(shape, seed + salt, -bound, bound)


def vary_thickness(x: tf.Tensor, seed: tf.Tensor, prob: float) -> tf.Tensor:
    """Dilate or erode a random share of the images by one pixel."""
    n = tf.shape(x)[0]
    dilated = tf.nn.max_pool2d(x, 2, 1, "SAME")
    eroded = -tf.nn.max_pool2d(-x, 2, 1, "SAME")
    u = tf.random.stateless_uniform([n, 1, 1, 1], seed + 7)
    out = tf.where(u < prob / 2, dilated, x)
    return tf.where((u >= prob / 2) & (u < prob), eroded, out)


def _bilinear_sample(x: tf.Tensor, sy: tf.Tensor, sx: tf.Tensor) -> tf.Tensor:
    """Sample images (B, H, W, 1) at float coordinates (B, H, W); outside is background."""
    n = tf.shape(x)[0]
    flat = tf.reshape(x, [n, SIZE * SIZE])
    y0, x0 = tf.floor(sy), tf.floor(sx)
    out = tf.zeros_like(sy)
    for dy in (0.0, 1.0):
        for dx in (0.0, 1.0):
            yy, xx = y0 + dy, x0 + dx
            w = (1.0 - tf.abs(sy - yy)) * (1.0 - tf.abs(sx - xx))
            inside = (yy >= 0) & (yy < SIZE) & (xx >= 0) & (xx < SIZE)
            idx = tf.cast(tf.clip_by_value(yy, 0, SIZE - 1) * SIZE
                          + tf.clip_by_value(xx, 0, SIZE - 1), tf.int32)
            vals = tf.gather(flat, tf.reshape(idx, [n, -1]), batch_dims=1)
            out += tf.where(inside, w, 0.0) * tf.reshape(vals, tf.shape(sy))
    return out[..., None]


def random_warp(x: tf.Tensor, seed: tf.Tensor, cfg: AugmentConfig) -> tf.Tensor:
    """One affine + elastic resampling per image."""
    n = tf.shape(x)[0]
    s = cfg.strength
    theta = _uniform(seed, [n], math.radians(cfg.rotation_deg) * s, 1)
    shear = _uniform(seed, [n], cfg.shear * s, 2)
    zoom_x = 1.0 + _uniform(seed, [n], cfg.scale * s, 3)
    zoom_y = 1.0 + _uniform(seed, [n], cfg.scale * s, 4)
    tx = _uniform(seed, [n], cfg.translate_px * s, 5)
    ty = _uniform(seed, [n], cfg.translate_px * s, 6)

    # Inverse map: for every output pixel, where to read in the input.
    cos, sin = tf.cos(theta), tf.sin(theta)
    m00, m01 = cos / zoom_x, (cos * shear - sin) / zoom_y
    m10, m11 = sin / zoom_x, (sin * shear + cos) / zoom_y

    grid = tf.range(SIZE, dtype=tf.float32) - CENTRE
    gy, gx = tf.meshgrid(grid, grid, indexing="ij")
    gy, gx = gy[None], gx[None]

    def per_image(v: tf.Tensor) -> tf.Tensor:
        return v[:, None, None]

    sx = per_image(m00) * gx + per_image(m01) * gy + CENTRE + per_image(tx)
    sy = per_image(m10) * gx + per_image(m11) * gy + CENTRE + per_image(ty)

    coarse = tf.random.stateless_normal([n, ELASTIC_GRID, ELASTIC_GRID, 2], seed + 8)
    flow = tf.image.resize(coarse * cfg.elastic_px * s, [SIZE, SIZE], method="bicubic")
    return _bilinear_sample(x, sy + flow[..., 0], sx + flow[..., 1])


def augment_batch(x: tf.Tensor, seed: tf.Tensor, cfg: AugmentConfig) -> tf.Tensor:
    """Augment a float batch (B, 28, 28, 1) in [0, 1]; `seed` is a stateless [2] int tensor."""
    x = vary_thickness(x, seed, cfg.thickness_prob * min(cfg.strength, 1.0))
    return tf.clip_by_value(random_warp(x, seed, cfg), 0.0, 1.0)
