"""Alternative readings of a line of marks and their geometric priors.

Where the geometry alone cannot decide, a slot offers several options: a mark as
wide as two digits read whole or cut apart (touching digits), two neighbouring marks
read as one digit or two (a broken stroke, a 5's flag). Each option has a log-prior
from its shape; the reader adds the classifier's log-probabilities and keeps the best.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from model.reader.cuts import cut_options
from model.reader.footing import PART_FREE, SHORT_FREE, alone_frees
from model.reader.pieces import Group, Piece, piece_of
from model.reader.widths import NARROW_MARK, writer_width

# Joining neighbours into one digit is considered when the result is no wider than
# this, and either one is a fragment (this share of the other's height) at most
# JOIN_FRAGMENT_GAP line heights away, or the gap is under JOIN_TOUCH_GAP.
JOIN_MAX_ASPECT = 1.25
JOIN_FRAGMENT = 0.6
JOIN_FRAGMENT_GAP = 0.25
JOIN_TOUCH_GAP = 0.05
# A mark wider than WIDE_ASPECT of the line's height is never joined with a neighbour.
WIDE_ASPECT = 1.1
# A mark wider than CUT_ASPECT of its height (as wide as its writer writes: `writer_width`)
# may be touching digits, and is offered cut as well as whole: a 1 leaning on its
# neighbour ("16", "81") is no wider than one broad digit. Tuned on 400 touching pairs of
# MNIST *train* digits, read exactly: 1.1: 258, 1.0: 277, 0.9: 285, 0.85: 286, 0.8: 287
# (one of 300 USPS train numbers lost); 3,000 USPS train digits, as pictures and as
# pen-tablet trajectories, read the same at each.
CUT_ASPECT = 0.85
WIDE_VS_LINE = 1.6  # ... or this many times the line's median width (3+ marks)
TYPICAL_ASPECT = 0.65  # expected digit width / height when a line gives no reference
MAX_PIECES = 6
# Log-priors (natural log units) that the classifier's log-probabilities must beat.
# Halves of one digit are often classified confidently (as 1s), so a cut needs
# evidence; in a line of several digits, each digit more or fewer than its width
# suggests costs CONTEXT_WEIGHT.
CUT_PENALTY = 0.7
JOIN_PENALTY = 0.4
CONTEXT_WEIGHT = 1.0
# Halves of one digit are seldom both as tall as it (a 4's bar, a 7's top, a 5's flag
# are cut off short); two digits that touch each stand the full height. So a cut whose
# pieces are all at least TALL_SHARE of the mark's height costs TALL_CUT_PENALTY: a 1
# leaning on a 5 is "15", not a broad 5. Tuned on 400 touching pairs of MNIST *train*
# digits, read exactly: 0.7 (no exception): 286; 0.5: 293 (share 0.9) or 294 (0.95);
# 0.4: 297 (0.9) or 298 (0.95); 0.3: 301, but 6 of 3,000 USPS train pen-tablet digits
# and 4 of their plain pictures read wrong (0.4 and 0.95: 3 and 0).
TALL_CUT_PENALTY = 0.4
TALL_SHARE = 0.95
# ... and STROKE_CUT_PENALTY when one of those pieces is a stroke (no wider than
# NARROW_MARK of its height): a 1 standing against a digit. A broad digit cut into two
# tall halves (a 2 whose foot curls) has no such piece. The same 400 pairs: 0.4: 298;
# 0.2: 301; 0.1: 303; 0: 304. At 0.2 the USPS train sets above and 1,600 USPS train
# numbers (`training.detached`, usps-numbers, -slanted, -cropped, -notebook) read as
# at 0.4; at 0.1 one pen-tablet digit more is read wrong.
STROKE_CUT_PENALTY = 0.2
# A 1 need stand neither the mark's full height nor beside a digit as tall: one is often
# written a little taller than the other ("21" read as a 2). So a bare stroke (no wider
# than BARE_STROKE of its height) standing STROKE_STANDS of the mark's height, beside
# pieces at least BESIDE_A_STROKE of it, costs STROKE_CUT_PENALTY too. Tuned on 2,700
# USPS *train* numbers (9 sets), 400 touching pairs of MNIST train digits, the fonts and
# 600 open 4s (`tests/test_segmentation.py`), read exactly: usps-joined 184 -> 189 of
# 300, the rest as before. Any stroke NARROW_MARK wide: 191-193, but a font's 6 is cut
# into "18" and a touching "94" read "644"; BARE_STROKE 0.3: 186.
# Not in a block of ink (a 1 stretched to fill its box, written with paper round it),
# whose ink covers over BLOCK_FILL of its box: there every cut stands the full height,
# and one USPS test 1 was read "21". Where the cut above is offered in the joined,
# plain and old-paper train numbers, the mark covers at most 0.66 of its box; a block 0.98.
STROKE_STANDS = 0.85
BESIDE_A_STROKE = 0.8
BARE_STROKE = 0.35
BLOCK_FILL = 0.8
# A writer who leaves paper between digits seldom lets two of them touch: in a line of
# 3+ marks, a cut costs up to SPACED_CUT_PENALTY more as the median gap between the
# line's marks grows to SPACED_GAP of its height (a wide 2 among spaced digits stays one).
# Not a cut through hairlines only (`model.reader.cuts.Cut.touching`): there the digits do
# not touch, the pen ran on from one to the next (300 usps-joined numbers of USPS *train*
# digits: 178 -> 181 read exactly; the other train number sets as before).
SPACED_CUT_PENALTY = 2.0
SPACED_GAP = 0.15
# A cut offered with the ink under `model.reader.cuts.WIDE_HAIRLINE` going with it, not only
# HAIRLINE's, costs THINNED_PENALTY: that ink may be a digit's own quick stroke, and a 7
# without its bar is a confident 1 ("07" read "01"). Tuned on 300 usps-joined numbers and
# 400 touching pairs of MNIST *train* digits, read exactly: without the offer 181 and
# 293; at 0: 191 and 289; 0.25: 189, 292; 0.5: 188, 292; 0.75: 186, 293; 1.0: 184, 293.
# A charge growing with the share of ink taken (2-16 per unit) did worse.
THINNED_PENALTY = 0.75
CROSSING_PENALTY = 0.5  # per stroke a cut goes through beyond the one touching digits share
# Per cut through paper the mark encloses: a 0, 6, 8 or 9 is not two digits. But two
# digits that touch twice (a 0 beside a 6, a 4 whose bar reaches a 2) enclose paper
# between them too, so a cut between them pays it as well. At 1.0 (2.0 before) 400
# touching pairs of MNIST *train* digits read 60.0 -> 61.75 % and the fonts, usps and
# form sets read as before; at 0.5, 3 of 690 font digits are cut in two.
LOOP_CUT_PENALTY = 1.0
# Digits written side by side stand on one line, so a cut piece whose foot ends more
# than HANG_FREE of the mark's height above the mark's foot hangs from the rest (a wide
# open 4's down-stroke, read as a confident 1: "14"). Reading it so costs HANG_SLOPE per
# unit of height beyond HANG_FREE. Tuned on USPS *train* (3,000-7,291 digits as scans,
# plain, boxed and 8-point trajectories; 1,500 numbers), 400 touching pairs of MNIST
# train digits and 2,160 fresh style drawings, read exactly: at 0.2 and 4, 8 or 12
# nothing is lost but one boxed digit at 12; at 8, +1 retraced and +1 lifted trajectory,
# +1 touching pair, +2 drawings. At 0.12 and 12, one boxed digit and one notebook
# number lost.
HANG_FREE = 0.2
HANG_SLOPE = 8.0
# A digit shorter than SHORT_FREE (`model.reader.footing`) of its line's tallest mark costs
# SHORT_SLOPE per unit (a 5's flag read on its own, a piece cut off a digit). Reading
# two marks whose boxes overlap by more than OVERLAP_FREE of the narrower as two digits
# costs OVERLAP_SLOPE per unit of overlap.
SHORT_SLOPE = 6.0
OVERLAP_FREE = 0.1
OVERLAP_SLOPE = 3.0
# Marks that may each be one digit with the next (`_may_join`) share a slot, up to
# MAX_RUN of them (2 to 4 in the sets; each more mark multiplies the options by 1.6);
# there a mark read on its own is charged as short from higher up (`model.reader.footing`).
MAX_RUN = 6


@dataclass(frozen=True)
class Option:
    """One way to read a slot: its digits and the geometric log-prior of reading it so."""

    pieces: tuple[Piece, ...]
    prior: float = 0.0  # <= 0; the reader adds the classifier's log-probabilities
    cut_apart: bool = False  # the pieces were cut out of one mark


@dataclass(frozen=True)
class Slot:
    """A place in a line holding one or more digits; `options[0]` is the geometric guess."""

    options: tuple[Option, ...]
    writer_width: float = 1.0  # how much wider than MNIST's the writer's digits are


def line_slots(labels: np.ndarray, line: list[Group]) -> list[Slot]:
    """Slots of one line: a run of marks, each of which may be one digit with the next,
    shares a slot, so a piece between two digits may go to either side (a 4's loose
    left stroke beside an 8 is the 4's, not the 8's)."""
    height = float(max(g.h for g in line))
    slots, i = [], 0
    while i < len(line):
        run = [line[i]]
        while (i + len(run) < len(line) and len(run) < MAX_RUN
               and _may_join(run[-1], line[i + len(run)], height)):
            run.append(line[i + len(run)])
        slots.append(_run_slot(labels, run, line, height) if len(run) > 1
                     else _slot(labels, run[0], line, height))
        i += len(run)
    return slots


def _run_slot(labels: np.ndarray, run: list[Group], line: list[Group],
              height: float) -> Slot:
    """A run of marks read every way as digits of one mark or of two neighbours joined."""
    alone = [piece_of(labels, g) for g in run]
    free = alone_frees(run, line, height)
    pairs = []
    for a, b in itertools.pairwise(run):
        joined = Group(a.labels + b.labels, a.x0, a.y0, a.x1, a.y1)
        joined.absorb(b)
        pairs.append(piece_of(labels, joined))
    # Neighbouring digits hardly overlap; parts of one digit often do.
    apart = [-OVERLAP_SLOPE * max(0.0, (a.x1 - b.x0) / min(a.w, b.w) - OVERLAP_FREE)
             for a, b in itertools.pairwise(run)]
    options = []  # all marks apart first: the geometric guess
    for blocks in _pairings(len(run)):
        pieces = tuple(alone[k] if size == 1 else pairs[k] for k, size in blocks)
        prior = (-JOIN_PENALTY * sum(size - 1 for _, size in blocks)
                 + sum(apart[k + size - 1] for k, size in blocks[:-1]))
        frees = tuple(free[k] if size == 1 else PART_FREE for k, size in blocks)
        options.append(_option(pieces, height, prior, free=frees))
    return Slot(tuple(options), writer_width(line, tuple(run)))


def _pairings(count: int) -> list[list[tuple[int, int]]]:
    """Every way to read `count` marks in a row as blocks of one mark or two
    neighbours, each a list of (first mark, size); all marks alone first."""
    if count == 0:
        return [[]]
    ways = [[(0, 1)] + [(k + 1, s) for k, s in rest] for rest in _pairings(count - 1)]
    if count >= 2:
        ways += [[(0, 2)] + [(k + 2, s) for k, s in rest] for rest in _pairings(count - 2)]
    return ways


def _may_join(a: Group, b: Group, height: float) -> bool:
    """Neighbours that could be one digit: a fragment next to its digit, or all but touching."""
    merged_w = max(a.x1, b.x1) - min(a.x0, b.x0)
    merged_h = max(a.y1, b.y1) - min(a.y0, b.y0)
    if merged_w > JOIN_MAX_ASPECT * merged_h or _wide(a, height) or _wide(b, height):
        return False
    gap = b.x0 - a.x1
    fragment = min(a.h, b.h) <= JOIN_FRAGMENT * max(a.h, b.h)
    return gap <= (JOIN_FRAGMENT_GAP if fragment else JOIN_TOUCH_GAP) * height


def _spacing(line: list[Group]) -> float:
    """The line's median gap between neighbouring marks, as a share (0-1) of SPACED_GAP."""
    gaps = [(b.x0 - a.x1) / max(a.h, b.h) for a, b in itertools.pairwise(line)]
    return float(np.clip(np.median(gaps) / SPACED_GAP, 0.0, 1.0)) if gaps else 0.0


def _wide(g: Group, height: float) -> bool:
    return g.w > WIDE_ASPECT * max(g.h, height)


def mark_slot(labels: np.ndarray, group: Group, line: list[Group], height: float) -> Slot:
    """The slot of a mark known to be one digit or more (never joined with a neighbour)."""
    return _slot(labels, group, line, height)


def _slot(labels: np.ndarray, group: Group, line: list[Group], height: float) -> Slot:
    """One mark's slot: read whole, or (when wide) cut into several digits."""
    whole = piece_of(labels, group)
    widths = [g.w for g in line if g is not group]
    in_context = len(widths) >= 2  # other digits tell how wide a digit is here
    writer = writer_width(line, (group,))
    # Narrow 1s must not make every other digit look like two.
    reference = TYPICAL_ASPECT * writer * max(group.h, height)
    if in_context:
        reference = max(reference, float(np.median(widths)))
    wide = (group.w > CUT_ASPECT * writer * group.h
            or (in_context and group.w > WIDE_VS_LINE * reference))
    if not wide:
        return Slot((_option((whole,), height),), writer)
    expected = group.w / reference
    spaced = SPACED_CUT_PENALTY * _spacing(line) if in_context else 0.0

    def context(k: int) -> float:
        return -CONTEXT_WEIGHT * abs(k - expected) if in_context else 0.0

    options = [_option((whole,), height, context(1))]
    for cut in cut_options(whole, MAX_PIECES):
        k = len(cut.pieces)
        prior = (context(k) - spaced * (cut.touching > 0)
                 - _cut_penalty(cut.pieces, whole) * (k - 1)
                 - CROSSING_PENALTY * cut.crossed - LOOP_CUT_PENALTY * cut.loops
                 - THINNED_PENALTY * cut.thinned
                 - HANG_SLOPE * _hanging(cut.pieces, whole))
        options.append(_option(cut.pieces, height, prior, cut_apart=True))
    return Slot(tuple(options), writer)


def _cut_penalty(pieces: tuple[Piece, ...], whole: Piece) -> float:
    """What each cut of the `whole` mark costs: least when one piece is a stroke (a 1
    against a digit) and the pieces stand about the mark's full height, less when they
    all stand it (touching digits)."""
    height = whole.h
    if all(p.h >= TALL_SHARE * height for p in pieces):
        narrow = any(p.w <= NARROW_MARK * p.h for p in pieces)
        return STROKE_CUT_PENALTY if narrow else TALL_CUT_PENALTY
    if (all(p.h >= BESIDE_A_STROKE * height for p in pieces)
            and any(p.w <= BARE_STROKE * p.h and p.h >= STROKE_STANDS * height
                    for p in pieces)
            and whole.mask.mean() <= BLOCK_FILL):  # the costliest test last
        return STROKE_CUT_PENALTY
    return CUT_PENALTY


def _hanging(pieces: tuple[Piece, ...], whole: Piece) -> float:
    """How far the pieces' feet end above the whole mark's, beyond HANG_FREE, in its heights."""
    foot = whole.y + whole.h
    return sum(max(0.0, (foot - p.y - p.h) / whole.h - HANG_FREE) for p in pieces)


def _option(pieces: tuple[Piece, ...], height: float, prior: float = 0.0,
            cut_apart: bool = False, free: float | tuple[float, ...] = SHORT_FREE) -> Option:
    """An option whose prior also charges digits far shorter than their line (shorter
    than `free` of it: one share for all pieces, or one per piece)."""
    frees = free if isinstance(free, tuple) else (free,) * len(pieces)
    short = sum(max(0.0, f - p.h / height) for f, p in zip(frees, pieces, strict=True))
    return Option(pieces, prior - SHORT_SLOPE * short, cut_apart)
