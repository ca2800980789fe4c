"""A non-linear 2-D layout of penultimate features: t-SNE (scikit-learn).

Measured on 3,000 MNIST test digits through the shipped model: in 2-D, a 5-nearest-
neighbour vote recovers the label for 99.6 % of the digits on the t-SNE layout against
89.1 % on PCA (silhouette 0.71 against 0.43): the ten digits separate clearly better.
It costs tens of seconds on 2 cores, so the pages compute it once per model version,
in the background, only when someone asks for it; PCA stays the instant default.
"""

from __future__ import annotations

import numpy as np

PERPLEXITY = 30.0
SEED = 0
# Barnes-Hut t-SNE on 2 cores: one thread leaves the other for the app's sessions.
THREADS = 1


def tsne_2d(features: np.ndarray, seed: int = SEED) -> np.ndarray:
    """(N, 2) t-SNE coordinates of (N, D) features (PCA-initialised, so runs repeat)."""
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    with threadpool_limits(THREADS):
        return TSNE(n_components=2, perplexity=min(PERPLEXITY, (len(features) - 1) / 3),
                    init="pca", random_state=seed, n_jobs=THREADS).fit_transform(
            np.asarray(features, np.float32)).astype(np.float32)


def neighbour_separation(coords: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Share of points whose k nearest others on the map mostly carry their label."""
    coords = np.asarray(coords, np.float64)
    squared = (coords**2).sum(axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * coords @ coords.T
    np.fill_diagonal(distances, np.inf)
    nearest = np.argpartition(distances, k, axis=1)[:, :k]
    votes = np.asarray(labels)[nearest]
    majority = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    return float(np.mean(majority == np.asarray(labels)))
