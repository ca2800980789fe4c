"""Train the digit CNN: `python -m training.train [--preset classroom] [options]`.

Writes a model folder: `model.keras`, `model.onnx` and `card.json`, each
atomically, so the app never loads a half-written file, and logs the run to MLflow
(`training.tracking`): the recipe, every epoch, the test metrics and the folder.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from model.files import atomic_write, file_sha256, write_card
from model.settings import SETTINGS
from training import cancel, tracking
from training.config import TrainConfig, add_arguments, config_from_args
from training.data import MnistError, Splits
from training.metrics import classification_report
from training.mixture import build_splits
from training.tracking import DEFAULT_EXPERIMENT
from training.usps import UspsError

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

# TensorFlow is imported only once there is work for it, so `--help` and a bad
# `--data-dir` answer at once; this keeps its C++ start-up chatter out of the console.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def make_dataset(splits: Splits, cfg: TrainConfig) -> tuple[tf.data.Dataset, int]:
    """An endless, seeded, shuffled (and augmented) batch stream, and its steps per epoch."""
    import tensorflow as tf

    from training.augment import AugmentConfig, augment_batch

    n = len(splits.x_train)
    ds = tf.data.Dataset.from_tensor_slices((splits.x_train, splits.y_train))
    ds = ds.shuffle(n, seed=cfg.seed, reshuffle_each_iteration=True).repeat()
    ds = ds.batch(cfg.batch_size, drop_remainder=True)
    if cfg.augment:
        aug = AugmentConfig(strength=cfg.augment_strength)
        # The batch index keys the stateless random ops: same seed, same augmentation.
        ds = ds.enumerate().map(
            lambda i, xy: (augment_batch(xy[0], tf.stack([tf.cast(cfg.seed, tf.int64), i]), aug),
                           xy[1]),
            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE), max(1, n // cfg.batch_size)


def learning_rate(cfg: TrainConfig,
                  steps_per_epoch: int) -> float | keras.optimizers.schedules.LearningRateSchedule:
    import keras

    total = cfg.epochs * steps_per_epoch
    if cfg.schedule == "constant":
        return cfg.learning_rate
    if cfg.schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(cfg.learning_rate, steps_per_epoch, 0.8)
    warmup = min(int(cfg.warmup_epochs * steps_per_epoch), total - 1)
    # Warm up linearly, then cosine down to ~0 at the last epoch: a short schedule
    # that still ends at a flat, well-converged minimum.
    return keras.optimizers.schedules.CosineDecay(
        cfg.learning_rate / 10, total - warmup, alpha=0.0,
        warmup_target=cfg.learning_rate, warmup_steps=warmup)


def predict_in_batches(network: keras.Model, x: np.ndarray, batch: int = 1000) -> np.ndarray:
    import tensorflow as tf

    call = tf.function(lambda b: network(b, training=False))
    return np.concatenate([call(x[i : i + batch]).numpy() for i in range(0, len(x), batch)])


def library_versions() -> dict[str, str]:
    import keras
    import onnxruntime
    import tensorflow as tf

    return {"python": platform.python_version(), "keras": keras.__version__,
            "tensorflow": tf.__version__, "numpy": np.__version__,
            "onnxruntime": onnxruntime.__version__}


def save_model(network: keras.Model, output: Path, card: dict[str, Any],
               export_onnx: bool) -> dict[str, Any]:
    """Write the Keras model, its ONNX export and the card, each atomically; the card last.

    Returns the card as written, with the checksums of the files.
    """
    keras_path = atomic_write(output / SETTINGS.keras_file,
                              lambda p: network.save(p, include_optimizer=False))
    files = {SETTINGS.keras_file: file_sha256(keras_path)}
    if export_onnx:
        onnx_path = atomic_write(output / SETTINGS.onnx_file,
                                 lambda p: network.export(str(p), format="onnx", verbose=False))
        files[SETTINGS.onnx_file] = file_sha256(onnx_path)
    card = {**card, "files": files}
    write_card(output, card)
    return card


def train(cfg: TrainConfig, output: Path, data_dir: str | Path | None = None,
          callbacks: list[keras.callbacks.Callback] | None = None, *,
          experiment: str | None = DEFAULT_EXPERIMENT, run_name: str | None = None,
          tags: dict[str, str] | None = None, parent_run_id: str | None = None) -> dict[str, Any]:
    """Train, evaluate on the MNIST test set, save the folder; returns the card.

    The run is logged to MLflow experiment `experiment` (None: not tracked), as a child
    of `parent_run_id` when given. An error ends it FAILED, KeyboardInterrupt (or SIGTERM
    through `cancel.cancel_on_signals`) KILLED. Its id is in the card's `mlflow` entry
    and, while it trains, in `mlflow.active_run()` for callbacks.
    """
    started = time.perf_counter()
    # Data first: a wrong folder is reported before TensorFlow takes seconds to start.
    with cancel.stop_at_once():  # this run is not open yet
        splits = build_splits(cfg, data_dir)  # MNIST, plus USPS and styles per the recipe
    output = Path(output)
    if experiment is None:
        return _train(cfg, output, splits, callbacks or [], started, None)
    run_tags = tracking.run_tags(cfg, splits.checksums, tags, output)
    with tracking.tracked_run(experiment, run_name or output.name, run_tags,
                              parent_run_id) as run:
        import mlflow

        mlflow.log_params(tracking.params_of(cfg))
        card = _train(cfg, output, splits, [tracking.epoch_logger(), *(callbacks or [])],
                      started, {"run_id": run.info.run_id, "experiment": experiment})
        cancel.raise_if_cancelled()  # stopped while testing or saving: nothing is logged
        tracking.log_results(card, output)
        return card


def _train(cfg: TrainConfig, output: Path, splits: Splits, callbacks: list[Any],
           started: float, run_info: dict[str, str] | None) -> dict[str, Any]:
    import keras
    import tensorflow as tf

    from model.network import build_cnn
    from training.objective import DigitAccuracy, digit_loss

    keras.utils.set_random_seed(cfg.seed)
    tf.config.experimental.enable_op_determinism()
    dataset, steps = make_dataset(splits, cfg)
    network = build_cnn(cfg.filters, cfg.convs, cfg.kernel_size, cfg.dropout, cfg.dense_units)
    network.compile(optimizer=keras.optimizers.Adam(learning_rate(cfg, steps)),
                    loss=digit_loss, metrics=[DigitAccuracy()])

    # Validation loss, not accuracy: on 6,000 images accuracy moves in steps of
    # 0.017 %. A decaying schedule does its best work in its low-rate epochs, so only
    # its last third is watched: stopping earlier cut a cosine run short (99.56 %).
    monitor = "val_loss" if len(splits.x_val) else "loss"
    watch_from = 0 if cfg.schedule == "constant" else (2 * cfg.epochs) // 3
    stop = keras.callbacks.EarlyStopping(monitor=monitor, patience=cfg.patience,
                                         start_from_epoch=watch_from,
                                         restore_best_weights=True, verbose=1)
    history = network.fit(
        dataset, epochs=cfg.epochs, steps_per_epoch=steps, shuffle=False,  # shuffled above
        validation_data=(splits.x_val, splits.y_val) if len(splits.x_val) else None,
        callbacks=[stop, cancel.cancel_check(), *callbacks],
        verbose=1 if sys.stdout.isatty() else 2,  # one line per epoch in logs and CI
    )
    train_seconds = time.perf_counter() - started

    report = classification_report(splits.y_test, predict_in_batches(network, splits.x_test))
    epochs = [{k: float(v[i]) for k, v in history.history.items()}
              for i in range(len(history.history["loss"]))]
    card = {
        "name": output.name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m training.train " + " ".join(sys.argv[1:]),
        "hyperparameters": cfg.to_dict(),
        "parameters": int(network.count_params()),
        "data": {"checksums": splits.checksums, "train": len(splits.x_train),
                 "validation": len(splits.x_val), "test": len(splits.x_test)},
        "versions": library_versions(),
        "training_seconds": round(train_seconds, 1),
        "epochs_run": len(epochs),
        "best_epoch": (stop.best_epoch + 1) if stop.best_weights is not None else len(epochs),
        "early_stopping": {"monitor": monitor, "from_epoch": watch_from + 1,
                           "patience": cfg.patience},
        "history": epochs,
        "test": report,
    }
    if run_info:
        card["mlflow"] = run_info
    return save_model(network, output, card, cfg.export_onnx)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--output", type=Path, default=None,
                        help="model folder to write (default: runs/<time>-<preset>)")
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX files")
    parser.add_argument("--experiment", default=DEFAULT_EXPERIMENT,
                        help=f"MLflow experiment to log to (default: {DEFAULT_EXPERIMENT})")
    parser.add_argument("--run-name", default=None, help="MLflow run name (default: the folder)")
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except SystemExit as exc:  # a bad setting: its one sentence, the usage exit status
        if isinstance(exc.code, str):
            parser.error(exc.code.removeprefix("error: "))
        raise
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    output = args.output or SETTINGS.runs_dir / f"{stamp}-{args.preset}"
    try:
        with cancel.cancel_on_signals():
            card = train(cfg, output, args.data_dir, experiment=args.experiment,
                         run_name=args.run_name, tags={"preset": args.preset})
    except (MnistError, UspsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except cancel.Cancelled as cancelled:
        print(cancelled, file=sys.stderr)
        return 130
    test = card["test"]
    print(f"Saved {output}: test accuracy {test['accuracy']:.4%} ({test['errors']} errors "
          f"of {test['n']}), {card['training_seconds']:.0f} s, best epoch {card['best_epoch']}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

