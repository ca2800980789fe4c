"""`python -m training.retrain [--feedback DIR_OR_STORE] [--epochs N] [--output DIR] [--json]`:
fine-tune the champion on feedback (`training.retrain`) and report before and after."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from training.retrain import RetrainConfig, retrain


def _print(result: dict[str, Any]) -> None:
    fb = result["feedback"]
    print(f"Fine-tuned {result['base']} on {fb['train']} feedback examples "
          f"({fb['holdout']} held out, {sum(fb['skipped'].values())} skipped) -> "
          f"{result['output']}")
    for reason, n in fb["skipped"].items():
        print(f"  skipped {n}: {reason}")
    for key, name in (("mnist_test", "MNIST test"), ("usps_test", "USPS test"),
                      ("holdout", "feedback hold-out")):
        b, a = result["before"][key], result["after"][key]
        if a is not None:
            print(f"  {name:18s} {b:.2%} -> {a:.2%}")
    if "version" in result:
        print(f"Registered version {result['version']}; "
              f"{'promoted' if result['promoted'] else 'not promoted'}: {result['gate']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.retrain",
                                     description="Fine-tune the champion on feedback.")
    parser.add_argument("--feedback", default=None, metavar="DIR_OR_STORE",
                        help="folder or zip (<digit>/<file>.png), or a store file "
                             "(default: the monitoring store)")
    parser.add_argument("--epochs", type=int, default=RetrainConfig.epochs)
    parser.add_argument("--output", type=Path, default=None, help="model folder to write")
    parser.add_argument("--mnist", type=int, default=RetrainConfig.mnist)
    parser.add_argument("--usps", type=int, default=None, help="USPS train digits (default all)")
    parser.add_argument("--feedback-weight", type=int, default=RetrainConfig.feedback_weight)
    parser.add_argument("--usps-test-limit", type=int, default=None)
    parser.add_argument("--no-register", action="store_true", help="do not register or promote")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    cfg = RetrainConfig(epochs=args.epochs, mnist=args.mnist, usps=args.usps,
                        feedback_weight=args.feedback_weight,
                        usps_test_limit=args.usps_test_limit)
    if cfg.epochs < 1 or cfg.mnist < 0 or cfg.feedback_weight < 1:
        print("error: --epochs and --feedback-weight must be at least 1, --mnist at least 0.",
              file=sys.stderr)
        return 2
    from training.cancel import Cancelled, cancel_on_signals

    try:
        with cancel_on_signals():
            result = retrain(cfg, args.feedback, args.output, register=not args.no_register)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Cancelled as cancelled:
        print(cancelled, file=sys.stderr)  # says where it stopped, as `training.train` does
        return 130
    print(json.dumps(result) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        _print(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
