"""Training hyperparameters: one typed object, two named presets, and its command-line form."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Schedule = Literal["cosine", "constant", "exponential"]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a trained model; it is stored in the model card."""

    epochs: int = 36
    batch_size: int = 128
    learning_rate: float = 3e-3
    schedule: Schedule = "cosine"
    warmup_epochs: float = 1.0
    filters: tuple[int, ...] = (16, 32, 64)
    convs: tuple[int, ...] | None = None  # per block; None: one each, two in the last
    kernel_size: int = 3
    dropout: float = 0.2
    dense_units: int = 128
    augment: bool = True
    augment_strength: float = 1.0
    validation_split: float = 0.1
    patience: int = 8
    seed: int = 0
    limit: int | None = None  # train on the first N shuffled images only (quick runs, tests)
    export_onnx: bool = True
    # The training mix (training.mixture); all zero: MNIST as published, nothing else.
    mnist_normalized: float = 0.0  # share of MNIST train digits given as the reader shows them
    usps_copies: int = 0  # renderings of each USPS train digit as a scan
    usps_boxed: int = 0  # renderings of each USPS train digit boxed (stretched to 16x16, 1 bit)
    usps_tablet: int = 0  # renderings of each USPS train digit as a pen-tablet trajectory
    styles: int = 0  # synthetic digits in the styles MNIST lacks (training.styles)
    # Share of those drawn on a tablet in several strokes that come in a writer's own
    # stroke order (training.styles.own_order). Measured, not shipped: docs/model-log.md.
    styles_own_orders: float = 0.0
    touching: int = 0  # pairs of touching digits taught as not one digit (training.outliers)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["filters"] = list(self.filters)
        d["convs"] = list(self.convs) if self.convs else None
        return d


# Each block halves the picture with 2x2 pooling: 28 -> 14 -> 7 -> 3 -> 1.
MAX_BLOCKS = 4
SCHEDULES = ("cosine", "constant", "exponential")


class ConfigError(ValueError):
    """A recipe that cannot train; the message is one sentence naming every problem."""


def validate(cfg: TrainConfig) -> TrainConfig:
    """Return `cfg` if it can train, else raise ConfigError saying what is wrong.

    The app's training form and the command line both call this before anything starts.
    """
    problems = []
    if not cfg.filters or min(cfg.filters) < 1:
        problems.append("every block needs at least 1 filter")
    if len(cfg.filters) > MAX_BLOCKS:
        problems.append(f"at most {MAX_BLOCKS} blocks fit a 28x28 digit")
    if cfg.convs is not None and (len(cfg.convs) != len(cfg.filters) or min(cfg.convs) < 1):
        problems.append("convolutions need one count of at least 1 per block of filters")
    if cfg.epochs < 1:
        problems.append("epochs must be at least 1")
    if cfg.batch_size < 1:
        problems.append("the batch size must be at least 1")
    if not cfg.learning_rate > 0:
        problems.append("the learning rate must be above 0")
    if cfg.schedule not in SCHEDULES:
        problems.append(f"the schedule must be one of {', '.join(SCHEDULES)}")
    if cfg.warmup_epochs < 0:
        problems.append("warm-up epochs cannot be negative")
    if cfg.kernel_size < 1:
        problems.append("the kernel size must be at least 1")
    if not 0 <= cfg.dropout < 1:
        problems.append("dropout must be from 0 up to (not including) 1")
    if cfg.dense_units < 1:
        problems.append("the dense layer needs at least 1 unit")
    if cfg.augment_strength < 0:
        problems.append("augmentation strength cannot be negative")
    if not 0 <= cfg.validation_split < 1:
        problems.append("the validation share must be from 0 up to (not including) 1")
    if cfg.patience < 0:
        problems.append("patience cannot be negative")
    if cfg.limit is not None and cfg.limit < 1:
        problems.append("the data limit must be at least 1 image (or none)")
    if not 0 <= cfg.mnist_normalized <= 1:
        problems.append("the share of normalised MNIST digits must be from 0 to 1")
    if not 0 <= cfg.styles_own_orders <= 1:
        problems.append("the share of synthetic digits in their own stroke order must be "
                        "from 0 to 1")
    if min(cfg.usps_copies, cfg.usps_boxed, cfg.usps_tablet, cfg.styles, cfg.touching) < 0:
        problems.append("USPS copies, synthetic styles and touching pairs cannot be negative")
    if problems:
        text = "; ".join(problems)
        raise ConfigError(f"Invalid settings: {text}.")
    return cfg


PRESETS: dict[str, TrainConfig] = {
    # MNIST alone: a lean network (3.8 M multiply-adds per digit) trained long with
    # augmentation; 99.70 % on MNIST test, 97.7 % on USPS test scans. The baseline.
    "default": TrainConfig(),
    # The recipe of the shipped model (`make train`): MNIST, USPS train and synthesised
    # styles, all as the reader shows them (training.mixture), with USPS train also boxed
    # (16x16, one bit) and redrawn as pen-tablet trajectories, on 24/48/96 channels (8.4 M
    # multiply-adds). 99.64 % on MNIST test, 98.2 % on USPS test scans, 97.6 % boxed,
    # 95.3 % as pen trajectories (the 20/40/80 recipe without them: 94.6 %; with them
    # on 20/40/80 the USPS scans lost 0.3 points). 44 epochs: with the reader of 30
    # November three 36-epoch runs of the 20/40/80 recipe scored 99.54-99.57 % on MNIST
    # test and two 44-epoch runs 99.66-99.67 %.
    "mix": TrainConfig(epochs=44, filters=(24, 48, 96), mnist_normalized=0.5, usps_copies=2,
                       usps_boxed=1, usps_tablet=1, styles=30_000),
    # A lesson-sized run: a narrower net, no augmentation, about a minute.
    "classroom": TrainConfig(epochs=3, filters=(16, 32), dense_units=64, augment=False,
                             warmup_epochs=0.3, patience=2),
}


def _counts(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected integers like 32,64, not {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("expected at least one positive count.")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field; unset options keep the preset's value."""
    parser.add_argument("--preset", choices=sorted(PRESETS), default="default")
    opts: dict[str, dict[str, Any]] = {
        "epochs": {"type": int}, "batch_size": {"type": int},
        "learning_rate": {"type": float},
        "schedule": {"choices": ["cosine", "constant", "exponential"]},
        "warmup_epochs": {"type": float},
        "filters": {"type": _counts, "help": "channels per conv block, e.g. 32,64 or 2"},
        "convs": {"type": _counts,
                  "help": "convolutions per block, e.g. 1,1,2 (default: two in the last)"},
        "kernel_size": {"type": int}, "dropout": {"type": float}, "dense_units": {"type": int},
        "augment_strength": {"type": float}, "validation_split": {"type": float},
        "patience": {"type": int}, "seed": {"type": int}, "limit": {"type": int},
        "mnist_normalized": {"type": float,
                             "help": "share of MNIST train digits as the reader normalises them"},
        "usps_copies": {"type": int, "help": "scan renderings of each USPS train digit"},
        "usps_boxed": {"type": int, "help": "boxed (16x16, one-bit) renderings of each USPS "
                                            "train digit"},
        "usps_tablet": {"type": int, "help": "pen-tablet trajectory renderings (8-16 points) "
                                             "of each USPS train digit"},
        "styles": {"type": int, "help": "synthetic digits in styles MNIST lacks"},
        "styles_own_orders": {"type": float,
                              "help": "share of synthetic tablet digits in several strokes "
                                      "drawn in a writer's own stroke order"},
        "touching": {"type": int, "help": "pairs of touching digits taught as not one digit"},
    }
    for name, kwargs in opts.items():
        parser.add_argument("--" + name.replace("_", "-"), dest=name, default=None, **kwargs)
    parser.add_argument("--augment", dest="augment", action=argparse.BooleanOptionalAction,
                        default=None, help="random warps, elastic distortion, stroke thickness")
    parser.add_argument("--no-onnx", dest="export_onnx", action="store_false", default=None,
                        help="skip the ONNX export (the app then falls back to Keras)")


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    base = PRESETS[args.preset]
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                 if getattr(args, f.name, None) is not None}
    if "filters" in overrides and "convs" not in overrides:
        overrides["convs"] = None  # the preset's counts were for its own blocks
    cfg = dataclasses.replace(base, **overrides)
    if cfg.convs is not None and len(cfg.convs) != len(cfg.filters):
        raise SystemExit(f"error: --convs needs one count per block of --filters "
                         f"({len(cfg.filters)} blocks).")
    try:
        return validate(cfg)
    except ConfigError as exc:
        raise SystemExit(f"error: {exc}") from None

