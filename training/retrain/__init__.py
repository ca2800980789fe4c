"""Retrain with feedback: `python -m training.retrain [--feedback DIR_OR_STORE] [--epochs N]
[--output DIR] [--json]`.

Fine-tunes the champion (`model.champion`, else the shipped model) on MNIST train,
USPS train and the feedback examples (`training.feedback_set`: the monitoring store by
default, or a folder or zip in the folder-per-digit layout), with the training
augmentation; each feedback example is repeated `--feedback-weight` times an epoch
(capped at a share of the epoch). A fixed share of the feedback is held out. The run
is logged to MLflow, the model folder written as `training.train` writes it, the
version registered, and promoted only if the registry's gate lets it. The report gives
MNIST test, USPS test (through the reader) and hold-out accuracy before and after.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from model.settings import SETTINGS
from training.feedback_set import HOLDOUT_SHARE, LabelledSet, load_feedback, usps_views

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
EXPERIMENT = "digit-studio"


@dataclass(frozen=True)
class RetrainConfig:
    """How the champion is fine-tuned (stored in the card and as MLflow params)."""

    epochs: int = 3
    learning_rate: float = 3e-4
    batch_size: int = 128
    mnist: int = 20_000  # MNIST train digits (seeded) mixed in so MNIST is not forgotten
    usps: int | None = None  # USPS train digits (the first N); None: all 7,291; 0: none
    feedback_weight: int = 10  # times each feedback example is seen per epoch
    max_feedback_share: float = 0.3  # ...but feedback is at most this share of an epoch
    holdout: float = HOLDOUT_SHARE
    augment_strength: float = 1.0
    usps_test_limit: int | None = None  # score the first N USPS test digits (None: all)
    seed: int = 0


def base_model() -> tuple[str, Path]:
    """(label, folder) of the model to fine-tune: the champion, else the shipped model."""
    try:
        from model.champion import resolve_model
    except ImportError:
        return "shipped", SETTINGS.shipped_model_dir
    choice = resolve_model()
    return choice.label, Path(choice.path)


def repeats(n_feedback: int, n_other: int, cfg: RetrainConfig) -> int:
    """How often each feedback example goes into an epoch (at least once)."""
    if not n_feedback:
        return 0
    cap = cfg.max_feedback_share * n_other / ((1 - cfg.max_feedback_share) * n_feedback)
    return max(1, min(cfg.feedback_weight, int(cap)))


def training_arrays(cfg: RetrainConfig, usps: LabelledSet,
                    feedback: LabelledSet) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """MNIST train (seeded sample) + USPS + feedback x repeats, as model input."""
    from training.data import load_mnist, prepare, to_model_input

    parts_x, parts_y = [], []
    counts = {"mnist": 0, "usps": len(usps), "feedback": len(feedback), "feedback_repeats": 0}
    if cfg.mnist:
        mnist = prepare(load_mnist(), validation_split=0.0, seed=cfg.seed, limit=cfg.mnist)
        parts_x.append(mnist.x_train), parts_y.append(mnist.y_train)
        counts["mnist"] = len(mnist.y_train)
    if len(usps):
        parts_x.append(to_model_input(usps.images)), parts_y.append(usps.labels)
    times = repeats(len(feedback), counts["mnist"] + counts["usps"], cfg)
    if times:
        parts_x.append(np.repeat(to_model_input(feedback.images), times, axis=0))
        parts_y.append(np.repeat(feedback.labels, times))
        counts["feedback_repeats"] = times
    if not parts_x:
        raise ValueError("There is nothing to train on (no MNIST, USPS or feedback).")
    return np.concatenate(parts_x), np.concatenate(parts_y).astype(np.int64), counts


def fine_tune(base: Path, x: np.ndarray, y: np.ndarray, cfg: RetrainConfig,
              callbacks: list) -> tuple[Any, list[dict[str, float]]]:
    """The base network trained further on (x, y); returns it and its per-epoch history."""
    import keras
    import tensorflow as tf

    from training.config import TrainConfig
    from training.objective import DigitAccuracy, digit_loss
    from training.train import make_dataset

    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    network = keras.saving.load_model(base / SETTINGS.keras_file, compile=False, safe_mode=True)
    recipe = TrainConfig(batch_size=cfg.batch_size, seed=cfg.seed, augment=True,
                         augment_strength=cfg.augment_strength)
    dataset, steps = make_dataset(SimpleNamespace(x_train=x, y_train=y), recipe)
    total = cfg.epochs * steps
    warmup = min(steps // 5, total - 1)  # a gentle start: the optimizer's moments are new
    rate = keras.optimizers.schedules.CosineDecay(cfg.learning_rate / 10, max(1, total - warmup),
                                                  warmup_target=cfg.learning_rate,
                                                  warmup_steps=warmup)
    network.compile(optimizer=keras.optimizers.Adam(rate), loss=digit_loss,
                    metrics=[DigitAccuracy()])
    history = network.fit(dataset, epochs=cfg.epochs, steps_per_epoch=steps, shuffle=False,
                          callbacks=callbacks, verbose=2)
    epochs = [{k: float(v[i]) for k, v in history.history.items()}
              for i in range(len(history.history["loss"]))]
    return network, epochs


def scores(folder: Path, holdout: LabelledSet, cfg: RetrainConfig) -> dict[str, Any]:
    """MNIST test, USPS test (through the reader) and hold-out accuracy of a model folder."""
    from model import load_predictor
    from training.data import load_mnist, to_model_input
    from training.realworld.scores import usps_report

    predictor = load_predictor(folder)
    mnist = load_mnist()
    right = predictor.predict(to_model_input(mnist.x_test)) == mnist.y_test
    usps = usps_report(predictor, "test", cfg.usps_test_limit)
    held = (float(np.mean(predictor.predict(to_model_input(holdout.images)) == holdout.labels))
            if len(holdout) else None)
    return {"mnist_test": float(right.mean()), "usps_test": usps["reader"], "usps_n": usps["n"],
            "holdout": held, "holdout_n": len(holdout)}


def _card(base_label: str, base: Path, network: Any, cfg: RetrainConfig, counts: dict,
          history: list, seconds: float, output: Path) -> dict[str, Any]:
    from model.files import read_card
    from training.data import load_mnist, to_model_input
    from training.metrics import classification_report
    from training.train import library_versions, predict_in_batches

    mnist = load_mnist()
    report = classification_report(mnist.y_test.astype(np.int64), predict_in_batches(
        network, to_model_input(mnist.x_test)))
    base_card = read_card(base)
    return {
        "name": output.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m training.retrain " + " ".join(sys.argv[1:]),
        "hyperparameters": base_card.get("hyperparameters", {}),
        "retrain": {"base": base_label, "base_dir": str(base), **asdict(cfg)},
        "parameters": int(network.count_params()),
        "data": {"checksums": base_card.get("data", {}).get("checksums", {}), **counts,
                 "train": int(sum(v for k, v in counts.items() if k != "feedback_repeats"))},
        "versions": library_versions(),
        "training_seconds": round(seconds, 1),
        "epochs_run": len(history),
        "best_epoch": len(history),
        "history": history,
        "test": report,
    }


def _callbacks() -> list:
    from training.cancel import cancel_check
    from training.tracking import epoch_logger

    found = [cancel_check(), epoch_logger()]
    if os.environ.get("DIGIT_STUDIO_JOB_DIR"):  # run by the app's background jobs
        try:
            from training.jobs.worker import progress_callback

            found.append(progress_callback())
        except ImportError:
            pass
    return found


def _register(run_id: str, cfg: RetrainConfig, reason: str) -> dict[str, Any]:
    try:
        from training import registry
    except ImportError:
        return {"version": None, "promoted": False, "gate": "There is no model registry here."}
    version = registry.register_run(run_id, usps_limit=cfg.usps_test_limit)
    gate = registry.promote(version, reason=reason)
    return {"version": version, "promoted": gate.ok, "gate": gate.reason}


def retrain(cfg: RetrainConfig, feedback: str | Path | None = None, output: Path | None = None,
            *, register: bool = True, usps_exclude: frozenset[int] = frozenset(),
            experiment: str = EXPERIMENT, allow_empty: bool = False) -> dict[str, Any]:
    """Fine-tune, evaluate before and after, log, save, register and maybe promote.

    ValueError (one sentence) when the feedback has no usable example, unless `allow_empty`
    (a control run: the same retraining without feedback).
    """
    import mlflow

    from training.cancel import raise_if_cancelled
    from training.tracking import log_results, tracked_run
    from training.train import save_model

    started = time.perf_counter()
    label, base = base_model()
    examples = load_feedback(feedback)
    if not len(examples) and not allow_empty:
        skipped = sum(examples.skipped.values())
        raise ValueError(f"There is no usable feedback in {feedback or SETTINGS.monitor_db}"
                         + (f" ({skipped} files skipped: "
                            + "; ".join(f"{n} {why}" for why, n in examples.skipped.items())
                            + ")" if skipped else "") + ".")
    train_part, holdout = examples.split(cfg.holdout)
    usps = usps_views("train", cfg.usps) if cfg.usps != 0 else LabelledSet(
        np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.int64), [])
    if usps_exclude:
        usps = usps.subset(np.array([i not in usps_exclude for i in range(len(usps))], bool))
    x, y, counts = training_arrays(cfg, usps, train_part)
    output = output or SETTINGS.runs_dir / f"{datetime.now():%Y%m%d-%H%M%S}-retrain"
    before = scores(base, holdout, cfg)
    tags = {"kind": "retrain", "base_model": label, "model_dir": str(output)}
    with tracked_run(experiment, run_name=output.name, tags=tags) as run:
        mlflow.log_params({f"retrain.{k}": str(v) for k, v in asdict(cfg).items()}
                          | {"base_model": label, "feedback_source": str(feedback or "store"),
                             **{f"data.{k}": v for k, v in counts.items()}})
        network, history = fine_tune(base, x, y, cfg, _callbacks())
        card = _card(label, base, network, cfg, counts, history,
                     time.perf_counter() - started, output)
        card = save_model(network, output, card, export_onnx=True)
        after = scores(output, holdout, cfg)
        raise_if_cancelled()  # stopped while testing or saving: nothing is logged
        log_results(card, output)
        mlflow.log_metrics({f"{when}_{k}": v for when, figures in (("before", before),
                                                                    ("after", after))
                            for k, v in figures.items() if v is not None}
                           | {"usps_accuracy": after["usps_test"]})
        run_id = run.info.run_id
    result = {"base": label, "output": str(output), "run_id": run_id,
              "feedback": {"source": str(feedback or SETTINGS.monitor_db),
                           "examples": len(examples), "train": len(train_part),
                           "holdout": len(holdout), "skipped": dict(examples.skipped)},
              "data": counts, "before": before, "after": after,
              "seconds": round(time.perf_counter() - started, 1)}
    if register:
        reason = f"retrained on {len(train_part)} feedback examples"
        result.update(_register(run_id, cfg, reason))
    return result
