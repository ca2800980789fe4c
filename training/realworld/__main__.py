"""`python -m training.realworld [--sets ...] [--split train|test] [--json]`: the sets of
`training.realworld` read through the reader, one table (or JSON) of figures."""

from __future__ import annotations

import argparse
import json
import sys

from model import load_predictor
from training.realworld import NUMBER_SETS, evaluate_realworld
from training.realworld.usps_numbers import contact_sheet, usps_numbers_samples
from training.usps_tablet import POINTS, WALKS


def _point_counts(text: str) -> tuple[int, ...]:
    """"8,12,16" -> (8, 12, 16); anything else is one sentence from argparse."""
    try:
        counts = tuple(int(n) for n in text.split(","))
    except ValueError:
        counts = ()
    if not counts or min(counts) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a list of point counts of 2 or more, e.g. 8 or 8,12,16")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.realworld",
        description="How well are digits read that are NOT MNIST? (training.realworld)")
    parser.add_argument("--model", default=None, help="model folder (default: shipped)")
    parser.add_argument("--quick", action="store_true", help="smaller sets, for tests")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--sets", default=None,
                        help="comma-separated sets to run (default: all), e.g. usps,usps96")
    parser.add_argument("--split", default="test", choices=["test", "train"],
                        help="USPS split of the usps sets (tune on train, check on test)")
    parser.add_argument("--failures", metavar="PNG", default=None,
                        help="write the usps-numbers failures as a contact sheet")
    parser.add_argument("--tablet-points", type=_point_counts, default=POINTS,
                        help="usps-tablet: points per digit, cycled, e.g. 8 (default: 8,12,16)")
    parser.add_argument("--tablet-walk", default="retrace", choices=WALKS,
                        help="usps-tablet: the pen's walk (wander: one no model trains on)")
    args = parser.parse_args(argv)
    only = frozenset(args.sets.split(",")) if args.sets else None
    results = evaluate_realworld(load_predictor(args.model), args.quick, only, args.split,
                                 args.tablet_points, args.tablet_walk)
    failed = {name: results[name].pop("failed") for name in NUMBER_SETS if name in results}
    if args.failures and failed.get("usps-numbers"):
        samples = usps_numbers_samples(args.split, results["usps-numbers"]["n"])
        contact_sheet([samples[i] for i, _ in failed["usps-numbers"]],
                      [f"{samples[i].text} read {text or 'nothing'}"
                       for i, text in failed["usps-numbers"]], args.failures)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'set':<18} {'n':>5} {'reader':>8} {'sure':>8} {'naive':>8} {'sure wrong':>11}")
    for name, r in results.items():
        if "rejected" in r:
            print(f"{name:<18} {r['n']:>5} rejected {r['rejected']:.1%}")
            continue
        naive = f"{r['naive']:8.1%}" if "naive" in r else "       –"
        # Single-digit sets count their sure and wrong readings; number sets give a share.
        wrong = r.get("sure_wrong", "")
        wrong = f"{wrong:11.1%}" if isinstance(wrong, float) else f"{wrong:>11}"
        print(f"{name:<18} {r['n']:>5} {r['reader']:8.1%} {r['sure']:8.1%} {naive} {wrong}")
    for name in NUMBER_SETS:
        if (numbers := results.get(name)) is not None:
            print(f"\n{name} ({args.split}): digit count right {numbers['count_right']:.1%}, "
                  f"sure and wrong {numbers['sure_wrong']:.1%}; failures "
                  + ", ".join(f"{k} {v}" for k, v in numbers["failures"].items())
                  + "; e.g. " + " ".join(numbers["examples"]))
    if "usps-boxed" in results:
        print("usps-boxed per digit: " + " ".join(
            f"{d}:{a:.1%}" for d, a in results["usps-boxed"]["per_digit"].items()))
    if "usps" not in results:
        return 0
    usps = results["usps"]
    print(f"\nusps: sure {usps['sure_share']:.1%} of digits, of which {usps['sure_precision']:.2%} "
          f"right ({usps['sure_wrong']} wrong); per digit "
          + " ".join(f"{d}:{a:.1%}" for d, a in usps["per_digit"].items()))
    print("usps confusions (true -> read: count): "
          + ", ".join(f"{t}->{r}: {c}" for t, r, c in usps["confusions"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
