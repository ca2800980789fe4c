"""The strokes of one digit merged into one group: step 2 of segmentation (`model.reader.segment`).

A 5's loose bar, a 4 or 9 written in two strokes, a stroke broken by a scan gap: pieces
stacked over each other (their x-ranges overlap) and close vertically are merged, the
closest pair first (`merge_stacked`); then small fragments at a digit's top or bottom,
partly over it (a 5's flag, a 2's detached base), go with the nearest mark
(`_attach_fragments`). A small digit beside its neighbours stays a digit of its own.
"""

from __future__ import annotations

import heapq

import numpy as np

from model.reader.pieces import Group

# Merging: x-ranges overlap by this share of the narrower piece, vertical gap at most
# this share of the taller one, merged height at most this multiple of the taller one
# (unless the gap is under TOUCH_GAP of the whole: a stroke broken by the scanner).
STACK_OVERLAP = 0.5
STACK_GAP = 0.3
STACK_MAX_GROWTH = 1.6
TOUCH_GAP = 0.06
# Fragments: at most this share of their digit's height, centred in its top or bottom
# FRAGMENT_END, at most FRAGMENT_GAP digit heights away, the whole no wider than this.
FRAGMENT_HEIGHT = 0.5
FRAGMENT_END = 0.3
FRAGMENT_GAP = 0.3
FRAGMENT_MAX_ASPECT = 1.5
FRAGMENT_OVERLAP = 0.25  # ... and over the digit for this share of its width


def merged_digits(groups: list[Group]) -> list[Group]:
    """The marks with the strokes of each digit merged: stacked pieces, then fragments.
    The groups are merged in place (`Group.absorb`)."""
    return _attach_fragments(merge_stacked(groups))


def _belong_together(a: Group, b: Group) -> bool:
    overlap = min(a.x1, b.x1) - max(a.x0, b.x0)
    if overlap < STACK_OVERLAP * min(a.w, b.w):
        return False
    taller = max(a.h, b.h)
    gap = _row_gap(a, b)
    if gap > STACK_GAP * taller:
        return False
    merged = max(a.y1, b.y1) - min(a.y0, b.y0)
    return merged <= STACK_MAX_GROWTH * taller or gap <= TOUCH_GAP * merged


def merge_stacked(groups: list[Group]) -> list[Group]:
    """Merge pieces of one digit until no pair belongs together, the closest pair first
    (by the gap between them): a 5's loose flag goes with its own body, not with the
    digit above it that a label under that digit has brought near."""
    groups = sorted(groups, key=lambda g: g.h * g.w, reverse=True)
    pairs = [(_row_gap(a, b), i, j) for i, a in enumerate(groups)
             for j, b in enumerate(groups[i + 1:], start=i + 1) if _belong_together(a, b)]
    heapq.heapify(pairs)
    gone: set[int] = set()
    while pairs:
        _, i, j = heapq.heappop(pairs)
        if i in gone or j in gone or not _belong_together(groups[i], groups[j]):
            continue  # one of them went into another, or grew apart from the other
        groups[i].absorb(groups[j])
        gone.add(j)
        for k, other in enumerate(groups):
            if k != i and k not in gone and _belong_together(groups[i], other):
                heapq.heappush(pairs, (_row_gap(groups[i], other), min(i, k), max(i, k)))
    return [g for k, g in enumerate(groups) if k not in gone]


def _row_gap(a: Group, b: Group) -> int:
    """The rows of paper between two groups (negative: their rows overlap)."""
    return max(a.y0, b.y0) - min(a.y1, b.y1)


def _attach_fragments(groups: list[Group]) -> list[Group]:
    """Attach fragments to the digit they belong to: a 5's flag, a 2's detached base.

    A fragment is at most FRAGMENT_HEIGHT of the height of a nearby mark and sits at
    its top or bottom, partly over it (a small digit sits beside its neighbours).
    """
    result = sorted(groups, key=lambda g: g.h * g.w)
    changed = True
    while changed:
        changed = False
        for frag in result:
            hosts = [g for g in result if g is not frag and frag.h <= FRAGMENT_HEIGHT * g.h]
            if hosts and _fragment_of(frag, host := min(hosts, key=lambda g: _box_gap(frag, g))):
                host.absorb(frag)
                result.remove(frag)
                changed = True
                break
    return result


def _fragment_of(frag: Group, host: Group) -> bool:
    centre = (frag.y0 + frag.y1) / 2
    at_end = centre < host.y0 + FRAGMENT_END * host.h or centre > host.y1 - FRAGMENT_END * host.h
    merged_w = max(frag.x1, host.x1) - min(frag.x0, host.x0)
    merged_h = max(frag.y1, host.y1) - min(frag.y0, host.y0)
    overlap = min(frag.x1, host.x1) - max(frag.x0, host.x0)
    return (at_end and overlap >= FRAGMENT_OVERLAP * frag.w
            and _box_gap(frag, host) <= FRAGMENT_GAP * host.h
            and merged_w <= FRAGMENT_MAX_ASPECT * merged_h)


def _box_gap(a: Group, b: Group) -> float:
    """Euclidean distance between two boxes (0 when they overlap)."""
    dx = max(0, max(a.x0, b.x0) - min(a.x1, b.x1))
    dy = max(0, max(a.y0, b.y0) - min(a.y1, b.y1))
    return float(np.hypot(dx, dy))
