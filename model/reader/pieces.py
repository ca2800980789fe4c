"""Candidate digits (pieces) and groups of marks that may form one digit.

A `Group` is connected components that may be one digit, with their joint box; a
`Piece` is one candidate digit, its box and its own pixels (`piece_of`), whole or cut
out of a wider mark (`model.reader.cuts`). `linked` puts marks that chains of pairs link into
one class (lines that go on from one another, pieces of one printed line).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Piece:
    """One candidate digit: its box at working resolution and its own pixels inside it."""

    x: int
    y: int
    w: int
    h: int
    mask: np.ndarray  # bool (h, w)

    @property
    def box(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.w, self.h


@dataclass
class Group:
    """Connected components that may form one digit, and their joint box."""

    labels: list[int]
    x0: int
    y0: int
    x1: int  # exclusive
    y1: int

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0

    def absorb(self, other: Group) -> None:
        self.labels += other.labels
        self.x0, self.y0 = min(self.x0, other.x0), min(self.y0, other.y0)
        self.x1, self.y1 = max(self.x1, other.x1), max(self.y1, other.y1)


def piece_of(labels: np.ndarray, g: Group) -> Piece:
    """The piece a group makes in a label image."""
    window = labels[g.y0:g.y1, g.x0:g.x1]
    return Piece(g.x0, g.y0, g.w, g.h, np.isin(window, g.labels))


def linked(count: int, pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Items 0..count-1 in classes, two items in one class when a chain of `pairs` links
    them (union-find); the classes in order of their first item, each in order."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        parent[root(i)] = root(j)
    classes: dict[int, list[int]] = {}
    for i in range(count):
        classes.setdefault(root(i), []).append(i)
    return list(classes.values())
