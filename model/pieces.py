"""Candidate digits (pieces), groups of marks, and the cutting of touching digits.

A mark as wide as several digits is cut at columns where the ink is thinnest
(local minima of its column profile). Every way of cutting at a few of those
columns into parts of plausible width is offered; the reader lets the classifier
and the geometric priors of `model.segment` choose among them. `linked` puts marks
that chains of pairs link into one class (lines that go on from one another, pieces of
one printed line).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from model.ink import stroke_width

CUT_CANDIDATES = 6  # the thinnest columns considered as cuts
# A cut part is at least this share of the mark's height wide (a narrow 1 is ~0.2)
# and at most this share.
MIN_PART_WIDTH = 0.15
MAX_PART_WIDTH = 1.3
MIN_PART_HEIGHT = 0.5  # ... and at least this share of its height tall (not a tail)
MINIMUM_RADIUS = 0.05  # a local minimum is the thinnest column within this share of the height
SLIVER = 0.15  # after a cut, marks smaller than this share of the part's largest go
MIN_LOOP = 0.1  # enclosed paper counts as a loop from this share of the height squared


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


@dataclass(frozen=True)
class Cut:
    """One way to cut a piece: its parts, the strokes its cuts cross beyond one per
    cut (touching digits meet in one stroke, a loop cut in half has two) and how many
    of its cuts go through a closed loop."""

    pieces: tuple[Piece, ...]
    crossed: float
    loops: int


def piece_of(labels: np.ndarray, g: Group) -> Piece:
    """The piece a group makes in a label image."""
    window = labels[g.y0:g.y1, g.x0:g.x1]
    return Piece(g.x0, g.y0, g.w, g.h, np.isin(window, g.labels))


def cut_options(piece: Piece, max_parts: int) -> list[Cut]:
    """Every cut of a piece at its thinnest columns into 2..max_parts plausible parts.

    Parts shared by several cuts are the same objects, so they are classified once.
    """
    profile = _profile(piece)
    columns = _thin_columns(piece, profile)
    width = max(stroke_width(piece.mask), 1.0)
    in_loop = _loop_columns(piece)
    parts: dict[tuple[int, int], Piece | None] = {}

    def part(left: int, right: int) -> Piece | None:
        if (left, right) not in parts:
            parts[left, right] = _part(piece, left, right)
        return parts[left, right]

    lo, hi = MIN_PART_WIDTH * piece.h, MAX_PART_WIDTH * piece.h
    options = []
    for count in range(1, min(max_parts - 1, len(columns)) + 1):
        for chosen in itertools.combinations(columns, count):
            edges = [0, *chosen, piece.w]
            if not all(lo <= b - a <= hi for a, b in itertools.pairwise(edges)):
                continue
            cut = [part(a, b) for a, b in itertools.pairwise(edges)]
            if all(p is not None for p in cut):
                extra = sum(max(0.0, float(profile[c]) / width - 1.0) for c in chosen)
                loops = sum(bool(in_loop[c]) for c in chosen)
                options.append(Cut(tuple(p for p in cut if p is not None), extra, loops))
    return options


def _loop_columns(piece: Piece) -> np.ndarray:
    """Per column, whether it passes through paper the piece's ink encloses (a loop)."""
    paper = cv2.copyMakeBorder((~piece.mask).astype(np.uint8), 1, 1, 1, 1,
                               cv2.BORDER_CONSTANT, value=1)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    outside = labels[0, 0]
    loops = [i for i in range(1, count)
             if i != outside and stats[i, cv2.CC_STAT_AREA] >= (MIN_LOOP * piece.h) ** 2]
    return np.isin(labels[1:-1, 1:-1], loops).any(axis=0)


def _profile(piece: Piece) -> np.ndarray:
    """Ink per column, lightly smoothed."""
    return cv2.blur(piece.mask.sum(axis=0, dtype=np.float32)[None], (3, 1))[0]


def _thin_columns(piece: Piece, profile: np.ndarray) -> list[int]:
    """The CUT_CANDIDATES columns with the least ink that are local minima, left to right."""
    radius = max(1, round(MINIMUM_RADIUS * piece.h))
    lowest = -cv2.dilate(-profile[None], np.ones((1, 2 * radius + 1), np.uint8))[0]
    margin = max(1, round(MIN_PART_WIDTH * piece.h))
    minima = [c for c in range(margin, piece.w - margin) if profile[c] <= lowest[c]]
    # A flat valley yields a run of equal minima: keep its middle column.
    runs: list[list[int]] = []
    for c in minima:
        if runs and c - runs[-1][-1] <= radius:
            runs[-1].append(c)
        else:
            runs.append([c])
    centres = [run[len(run) // 2] for run in runs]
    best = sorted(centres, key=lambda c: float(profile[c]))[:CUT_CANDIDATES]
    return sorted(best)


def _part(piece: Piece, left: int, right: int) -> Piece | None:
    """Columns left..right of a piece, slivers of a neighbour removed, cropped to its ink."""
    mask = _without_slivers(piece.mask[:, left:right])
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0 or rows[-1] + 1 - rows[0] < MIN_PART_HEIGHT * piece.h:
        return None
    top, bottom, first, last = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    return Piece(piece.x + left + first, piece.y + top, last - first, bottom - top,
                 mask[top:bottom, first:last])


def _without_slivers(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8),
                                                               connectivity=8)
    if count <= 2:
        return mask
    areas = stats[1:, cv2.CC_STAT_AREA]
    return np.isin(labels, 1 + np.flatnonzero(areas >= SLIVER * areas.max()))


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
