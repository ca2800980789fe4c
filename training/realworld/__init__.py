"""How well are digits read that are NOT MNIST? `python -m training.realworld [--json]`
(the command: `__main__.py`).

MNIST test accuracy says little about a child's digit on a projected canvas or
a pen-written number on a phone photo. This builds evaluation sets from sources
that share nothing with MNIST's writers, and scores the whole reader on them:

- usps:     the 2,007 USPS *test* digits (real writers, zip codes on envelopes) rendered
            as scans (`training.usps_pictures.usps_scan`: upscaled to 64-96 px, the scan's
            soft grey profile or a crisp pen of random thickness, scanner blur, noisy
            paper, a quarter cropped tight), read in single-digit mode: accuracy, per
            digit, the precision of "sure" and the commonest confusions. The only set
            of real handwriting by other writers; the synthetic sets below are checks
            of the pipeline, not evidence of real-world accuracy. Never trained on;
- usps-numbers: numbers of 3-6 USPS *test* digits as one writer's number on a scan
            (`usps_numbers`), read as `model.predict` reads a file, exactly:
            digit count right, sure and wrong, and the failures by kind (split: more
            digits than written, merged: fewer, misread). Thresholds are tuned on the
            same numbers of USPS *train* digits (`--split train`);
- usps-slanted: the same as usps-numbers, but each writer leaning by up to 0.6 (shear,
            x per row: 31 degrees) either way, not 0.25, as many people write;
- usps-boxed-numbers: numbers of 3-6 USPS *test* digits, each boxed as in usps-boxed,
            the boxes in a row 0-4 px apart (0: abutting), read as usps-numbers are;
- usps-boxed-staggered: the same, but each box set 0-3 px (of 16) lower than the row's
            top, as digits pasted side by side with a little jitter are;
- usps-notebook: numbers of 3-6 USPS *test* digits written in exercise books (ruled
            lines, squared paper, a red or pink margin line on every other page; in
            a blue or black pen or a pencil: `exercise_books`), photographed
            as JPEG, read and scored as usps-numbers are;
- usps-cropped: numbers of 3-6 USPS *test* digits cut out of a page of writing, with
            pieces of the lines above and below and of the writing beside them that
            the crop's edges cut (`page_crops`), read and scored as
            usps-numbers are;
- usps-old-paper: numbers of 3-6 USPS *test* digits on old paper (yellowed, mottled,
            stained, the ink faded unevenly, the back's writing showing through:
            `old_paper`), scanned as JPEG, read and scored as usps-numbers are;
- usps-table: numbers of 3-6 USPS *test* digits cut out of a table with the rules
            round their cell (the column's, the rows' or both: `table_cells`),
            read and scored as usps-numbers are;
- usps-joined: numbers of 3-6 USPS *test* digits written without lifting the pen, half
            the gaps joined by a hairline from a digit's stroke end to the next one's
            (`joined_numbers`), read and scored as usps-numbers are;
- usps-uneven: numbers of 3-6 USPS *test* digits written at uneven sizes, half in a
            hurried hand (each digit its own size and height), half in old-style figures
            (0, 1, 2 small; 3, 4, 5, 7, 9 below the line: `uneven_numbers`),
            read and scored as usps-numbers are;
- usps96:   the same digits as plain 96x96 pictures, edge to edge (how the issue first
            measured them), read as `model.predict` reads a file (any number of digits);
- usps-boxed: the same digits as some published sets keep theirs (European writers'
            among them): cut to the ink, stretched to fill 16x16 whatever the shape,
            one bit deep (`training.usps_pictures.boxed`), written as 96x96 files and read as
            `model.predict` reads them; a 1 comes out as wide as an 8;
- usps-boxed-light: the same boxed digits saved as their bits, the ink white on black
            (MNIST's way round); a 1 stretched to solid ink is then a white square;
- usps-tablet: the same digits redrawn as pen-tablet trajectories on the draw page's
            canvas (`training.usps_tablet`: the skeleton walked as a pen would, 8, 12 or
            16 points joined by straight segments), read as the canvas is read;
            `--tablet-points 8 --tablet-walk lift` draws them otherwise;
- fonts:    digits in the handwriting fonts Debian ships (fonts-bwht, fonts-breip, ...),
            tilted and sized at random, dark ink on off-white paper, read as files are;
- strokes:  OpenCV's Hershey stroke fonts drawn on a transparent 280x280 canvas with
            brush widths from 8 to 36 px: what the draw page receives;
- optdigits: scikit-learn's bundled 8x8 digits (43 other writers), upscaled;
- numbers:  multi-digit numbers composed from MNIST *test* digits on a noisy, tilted,
            unevenly lit page: the share read exactly;
- touching: two MNIST test digits whose strokes touch (one connected mark), read
            exactly: what cutting touching digits apart achieves;
- scribbles: zig-zags, loops, crosses and scrawls on the canvas, no digit at all: the
            share the reader is not sure of (rejected).

Each digit set is also run through the naive preprocessing most demos use (resize the
whole image to 28x28 and invert), the "before" against which the reader is judged,
and "sure" is the share read exactly *and* flagged sure.

The sets themselves are built in `training.realsets` (MNIST, fonts, strokes, optdigits,
scribbles), `training.usps_pictures` and `training.usps_tablet` (shared with training's
mix), and in this package: `usps_numbers` (a writer's number of USPS digits, the base of
the others), `exercise_books`, `page_crops`, `old_paper`, `table_cells`, `joined_numbers`
and `uneven_numbers`; `scores` scores a set as the app reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from model import Predictor
from training.realsets import (
    Sample,
    font_samples,
    number_samples,
    optdigit_samples,
    scribble_samples,
    stroke_samples,
    touching_samples,
)
from training.realworld.exercise_books import NOTEBOOK_NUMBERS, NOTEBOOK_QUICK, notebook_samples
from training.realworld.joined_numbers import JOINED_NUMBERS, JOINED_QUICK, joined_samples
from training.realworld.old_paper import OLD_PAPER_NUMBERS, OLD_PAPER_QUICK, old_paper_samples
from training.realworld.page_crops import CROPPED_NUMBERS, CROPPED_QUICK, cropped_samples
from training.realworld.scores import naive_read, score, score_reader, usps_report
from training.realworld.table_cells import TABLE_NUMBERS, TABLE_QUICK, table_samples
from training.realworld.uneven_numbers import UNEVEN_NUMBERS, UNEVEN_QUICK, uneven_samples
from training.realworld.usps_numbers import (
    BOXED_STAGGER,
    SLANTED,
    USPS_NUMBERS,
    USPS_NUMBERS_QUICK,
    numbers_report,
    usps_numbers_samples,
)
from training.usps_pictures import usps_boxed_samples, usps_plain_samples, usps_samples
from training.usps_tablet import POINTS, usps_tablet_samples

USPS_QUICK = 500  # test digits in the quick set (tests); the full set has 2,007


def build_sets(quick: bool = False) -> dict[str, list[Sample]]:
    from training.data import load_mnist

    mnist = load_mnist()
    return {
        "fonts": list(font_samples(variants=1 if quick else 3)),
        "strokes": list(stroke_samples()),
        "optdigits": list(optdigit_samples(300 if quick else None)),
        "numbers": list(number_samples(mnist.x_test, mnist.y_test, 60 if quick else 300)),
        "touching": list(touching_samples(mnist.x_test, mnist.y_test, 40 if quick else 200)),
        "scribbles": list(scribble_samples(100 if quick else 400)),
    }


def _number_set(samples: Callable[..., Iterable[Sample]], full: int, quick_count: int,
                **options: Any) -> Callable[[str, bool], list[Sample]]:
    """A number set's samples of a split: `full` pages, or `quick_count` for tests."""
    return lambda split, quick: list(samples(split, quick_count if quick else full, **options))


# Sets scored as numbers (`numbers_report`): name -> its samples of a split, full or quick.
NUMBER_SETS: dict[str, Callable[[str, bool], list[Sample]]] = {
    "usps-numbers": _number_set(usps_numbers_samples, USPS_NUMBERS, USPS_NUMBERS_QUICK),
    "usps-slanted": _number_set(usps_numbers_samples, USPS_NUMBERS, USPS_NUMBERS_QUICK,
                                slant=SLANTED),
    "usps-boxed-numbers": _number_set(usps_numbers_samples, USPS_NUMBERS, USPS_NUMBERS_QUICK,
                                      boxed=True),
    "usps-boxed-staggered": _number_set(usps_numbers_samples, USPS_NUMBERS,
                                        USPS_NUMBERS_QUICK, boxed=True, stagger=BOXED_STAGGER),
    "usps-notebook": _number_set(notebook_samples, NOTEBOOK_NUMBERS, NOTEBOOK_QUICK),
    "usps-cropped": _number_set(cropped_samples, CROPPED_NUMBERS, CROPPED_QUICK),
    "usps-old-paper": _number_set(old_paper_samples, OLD_PAPER_NUMBERS, OLD_PAPER_QUICK),
    "usps-table": _number_set(table_samples, TABLE_NUMBERS, TABLE_QUICK),
    "usps-joined": _number_set(joined_samples, JOINED_NUMBERS, JOINED_QUICK),
    "usps-uneven": _number_set(uneven_samples, UNEVEN_NUMBERS, UNEVEN_QUICK),
}
USPS_SETS = frozenset({"usps", "usps96", "usps-boxed", "usps-boxed-light", "usps-tablet",
                       *NUMBER_SETS})


def evaluate_realworld(predictor: Predictor, quick: bool = False,
                       only: frozenset[str] | None = None, split: str = "test",
                       tablet_points: tuple[int, ...] = POINTS, tablet_walk: str = "retrace",
                       ) -> dict[str, dict[str, float]]:
    """Exact-read accuracy per set (all, or the sets named in `only`), reader and naive.

    `split` chooses the USPS split of the usps sets ("train" to tune, never "test");
    `tablet_points` (cycled) and `tablet_walk` draw the usps-tablet set (`training.usps_tablet`).
    """
    limit = USPS_QUICK if quick else None
    results: dict[str, dict] = {}
    if only is None or "usps" in only:
        results["usps"] = usps_report(predictor, split, limit=limit)
        results["usps"]["naive"] = score(usps_samples(split, limit), naive_read, predictor)
    if only is None or "usps96" in only:
        plain = list(usps_plain_samples(split, limit=limit))
        results["usps96"] = {"n": len(plain), **score_reader(plain, predictor)}
    if only is None or "usps-boxed" in only:
        boxed = list(usps_boxed_samples(split, limit=limit))
        results["usps-boxed"] = {"n": len(boxed),
                                 **score_reader(boxed, predictor, per_digit=True)}
    if only is None or "usps-boxed-light" in only:
        light = list(usps_boxed_samples(split, limit=limit, light=True))
        results["usps-boxed-light"] = {"n": len(light), **score_reader(light, predictor)}
    if only is None or "usps-tablet" in only:
        pens = list(usps_tablet_samples(split, limit=limit, points=tablet_points,
                                        walk=tablet_walk))
        results["usps-tablet"] = {"n": len(pens), **score_reader(pens, predictor),
                                  "naive": score(pens, naive_read, predictor)}
    for name, samples in NUMBER_SETS.items():
        if only is None or name in only:
            results[name] = numbers_report(samples(split, quick), predictor)
    if only is not None and not only - USPS_SETS:
        return results
    for name, samples in build_sets(quick).items():
        if only is not None and name not in only:
            continue
        results[name] = {"n": len(samples), **score_reader(samples, predictor)}
        # The naive baseline can read neither several digits nor refuse a scribble.
        if name not in ("numbers", "touching", "scribbles"):
            results[name]["naive"] = score(samples, naive_read, predictor)
    return results
