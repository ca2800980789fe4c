"""The training recipe as the app's form edits it: form values in, a valid TrainConfig out,
and back to `training.train` options (for Azure ML jobs and for people to copy)."""

from __future__ import annotations

import dataclasses
from typing import Any

from training.config import PRESETS, ConfigError, TrainConfig, validate

# What the form offers, in its order; every other field keeps the preset's value.
FORM_FIELDS = ("filters", "convs", "epochs", "batch_size", "learning_rate", "schedule",
               "dropout", "augment", "augment_strength", "limit")


def parse_counts(text: str, what: str) -> tuple[int, ...] | None:
    """'16, 32,64' -> (16, 32, 64); '' -> None; anything else -> ConfigError."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    if not parts:
        return None
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ConfigError(f"Invalid settings: {what} must be whole numbers separated by "
                          f"commas, like 16,32, not {text!r}.") from None


def form_values(cfg: TrainConfig) -> dict[str, Any]:
    """A recipe as the form shows it (counts as text, no limit as 0)."""
    values = {name: getattr(cfg, name) for name in FORM_FIELDS}
    values["filters"] = ",".join(str(f) for f in cfg.filters)
    values["convs"] = ",".join(str(c) for c in cfg.convs) if cfg.convs else ""
    values["limit"] = cfg.limit or 0
    return values


def from_form(preset: str, values: dict[str, Any]) -> TrainConfig:
    """The preset with the form's values; ConfigError (one sentence) if it cannot train."""
    if preset not in PRESETS:
        raise ConfigError(f"Invalid settings: unknown preset {preset!r}.")
    unknown = set(values) - set(FORM_FIELDS)
    if unknown:
        raise ConfigError(f"Invalid settings: unknown option {', '.join(sorted(unknown))}.")
    changes = dict(values)
    if "filters" in changes:
        changes["filters"] = parse_counts(str(changes["filters"]), "filters") or ()
    if "convs" in changes:
        changes["convs"] = parse_counts(str(changes["convs"]), "convolutions per block")
    if "limit" in changes:
        changes["limit"] = int(changes["limit"]) or None  # 0: all the training digits
    for name in ("epochs", "batch_size"):
        if name in changes:
            changes[name] = int(changes[name])
    return validate(dataclasses.replace(PRESETS[preset], **changes))


def to_cli_args(cfg: TrainConfig, preset: str = "default") -> list[str]:
    """`training.train` options that rebuild `cfg` from `preset` (only what differs)."""
    base = PRESETS[preset]
    args = ["--preset", preset]
    for field in dataclasses.fields(TrainConfig):
        value, default = getattr(cfg, field.name), getattr(base, field.name)
        # The command line drops the preset's convs when filters change; name them again.
        keep_convs = field.name == "convs" and value is not None and cfg.filters != base.filters
        if value == default and not keep_convs:
            continue
        flag = "--" + field.name.replace("_", "-")
        if field.name == "augment":
            args.append("--augment" if value else "--no-augment")
        elif field.name == "export_onnx":
            args += [] if value else ["--no-onnx"]
        elif isinstance(value, tuple):
            args += [flag, ",".join(str(v) for v in value)]
        elif value is not None:
            args += [flag, str(value)]
    return args
