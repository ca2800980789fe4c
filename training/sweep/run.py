"""The running part of `training.sweep`: the Optuna study, its MLflow parent run, the plots.

Apart from the command line (`training.sweep`) and the search space (`space`) so that
`--help` and a bad `--grid` never import Optuna, MLflow or TensorFlow.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.settings import SETTINGS
from training import tracking
from training.sweep.space import (
    NAME_TAG,
    PARENT_TAG,
    SweepError,
    grid_value,
    recipe,
    search_space,
    storage_url,
    suggest,
    train_parser,
)

if TYPE_CHECKING:
    import optuna
    from mlflow import MlflowClient

PLOTS = ("optimization_history", "parallel_coordinate", "slice", "param_importances")
STATE_TAG = "optuna.state"  # "pruned" on a child run stopped by the median pruner


def median_pruner() -> optuna.pruners.BasePruner:
    """Stop a trial whose val_accuracy is below the median of earlier trials at that epoch,
    once three trials have finished; never after its first epoch (step 1: the rate is
    still warming up)."""
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)


def _pruning_callback(trial: optuna.Trial) -> Any:
    """Report each epoch's val_accuracy to Optuna; stop training once it says prune."""
    import keras

    class PruneOnEpoch(keras.callbacks.Callback):
        pruned = False

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            value = logs.get("val_accuracy", logs.get("accuracy"))
            if value is None:
                return
            trial.report(float(value), epoch + 1)
            if trial.should_prune():
                self.pruned = True
                self.model.stop_training = True

    return PruneOnEpoch()


def _objective_value(card: dict[str, Any]) -> float:
    """Validation accuracy of the kept (best) epoch; training accuracy without validation."""
    epoch = card["history"][card["best_epoch"] - 1]
    return float(epoch.get("val_accuracy", epoch["accuracy"]))


def _parent_run(client: MlflowClient, experiment_id: str, name: str,
                spec: dict[str, Any]) -> str:
    """The sweep's MLflow run: found again on a resume, else created with the spec as params."""
    found = client.search_runs([experiment_id], f"tags.`{NAME_TAG}` = '{name}' and "
                               f"tags.`{PARENT_TAG}` = 'true'", max_results=1)
    if found:
        run_id = found[0].info.run_id
        client.update_run(run_id, status="RUNNING")
        for stale in (tracking.STATUS_TAG, tracking.ERROR_TAG):  # from the stopped attempt
            if stale in found[0].data.tags:
                client.delete_tag(run_id, stale)
        return run_id
    tags = {NAME_TAG: name, PARENT_TAG: "true", "mlflow.runName": name,
            "sweep.kind": "grid" if spec["grid"] else "tpe"}
    commit = tracking.git_commit()
    if commit:
        tags["git_commit"] = commit
    run_id = client.create_run(experiment_id, run_name=name, tags=tags).info.run_id
    params = {"study": name, "preset": spec["preset"], "kind": tags["sweep.kind"],
              **{f"grid.{k}": ";".join(v) for k, v in spec["grid"].items()},
              **{f"fixed.{k}": json.dumps(v) for k, v in spec["fixed"].items()}}
    if spec["trials"]:
        params["trials"] = spec["trials"]
    for key, value in params.items():
        client.log_param(run_id, key, str(value))
    return run_id


def _retire_stale(study: optuna.Study) -> None:
    """Trials left RUNNING by a killed sweep will never end: mark them failed."""
    from optuna.trial import TrialState

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def _complete_points(study: optuna.Study, keys: list[str]) -> set[tuple[str, ...]]:
    from optuna.trial import TrialState

    return {tuple(str(t.params[k]) for k in keys)
            for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))}


def run_sweep(args: argparse.Namespace, name: str, spec: dict[str, Any],
              grid: dict[str, list[str]]) -> str:
    """Run (or resume) the sweep; returns a one-line summary."""
    import itertools

    import optuna
    from mlflow import MlflowClient
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a cancelled trial: no traceback
    logging.getLogger("alembic").setLevel(logging.WARNING)
    tracking.use_store()
    client = MlflowClient()
    experiment_id = tracking.ensure_experiment(args.experiment)
    storage = optuna.storages.RDBStorage(storage_url(), engine_kwargs={
        "connect_args": {"timeout": 30}})  # two sweeps at once wait for the lock
    if grid:
        sampler: optuna.samplers.BaseSampler = optuna.samplers.GridSampler(grid, seed=0)
        pruner: optuna.pruners.BasePruner = optuna.pruners.NopPruner()
    else:
        sampler = optuna.samplers.TPESampler(seed=0)
        pruner = median_pruner()
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                sampler=sampler, pruner=pruner, load_if_exists=True)
    stored = study.user_attrs.get("spec")
    if stored is not None and stored != json.loads(json.dumps(spec)):
        raise SweepError(f"sweep {name!r} exists with other settings ({stored}); "
                         "give another --name.")
    study.set_user_attr("spec", spec)
    _retire_stale(study)
    parent_id = _parent_run(client, experiment_id, name, spec)
    output_dir = args.output_dir or SETTINGS.runs_dir / "sweeps" / name
    parser = train_parser()
    space = search_space(args)

    def objective(trial: optuna.Trial) -> float:
        if grid:
            values = {k: grid_value(parser, k, trial.suggest_categorical(k, v))
                      for k, v in grid.items()}
        else:
            values = suggest(trial, space, augment_fixed=args.augment is not None)
        cfg = recipe(args, values)
        pruning = None if grid else _pruning_callback(trial)
        from training.train import train

        card = train(cfg, output_dir / f"trial-{trial.number:03d}", args.data_dir,
                     [pruning] if pruning else None, experiment=args.experiment,
                     run_name=f"{name}-{trial.number:03d}", parent_run_id=parent_id,
                     tags={"sweep": name, "optuna.trial": str(trial.number)})
        run_id = card["mlflow"]["run_id"]
        trial.set_user_attr("run_id", run_id)
        trial.set_user_attr("test_accuracy", card["test"]["accuracy"])
        trial.set_user_attr("parameters", card["parameters"])
        if pruning is not None and pruning.pruned:
            client.set_tag(run_id, STATE_TAG, "pruned")
            raise optuna.TrialPruned()
        return _objective_value(card)

    started = time.perf_counter()
    try:
        if grid:
            keys = list(grid)
            done = _complete_points(study, keys)
            todo = [p for p in itertools.product(*grid.values()) if p not in done]
            visited = {tuple(str(t.params.get(k)) for k in keys) for t in study.trials
                       if t.state.is_finished()}
            retry = [p for p in todo if p in visited]  # failed before: run them again
            if retry:
                again = optuna.load_study(study_name=name, storage=storage,
                                          sampler=optuna.samplers.RandomSampler(seed=0))
                for point in retry:
                    again.enqueue_trial(dict(zip(keys, point, strict=True)))
                again.optimize(objective, n_trials=len(retry))
            fresh = len(todo) - len(retry)
            if fresh:
                study.optimize(objective, n_trials=fresh)
        else:
            finished = study.get_trials(states=(TrialState.COMPLETE, TrialState.PRUNED))
            if args.trials > len(finished):
                study.optimize(objective, n_trials=args.trials - len(finished))
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            client.set_tag(parent_id, tracking.STATUS_TAG, "cancelled")
            client.set_terminated(parent_id, "KILLED")
        raise
    except BaseException as exc:
        with contextlib.suppress(Exception):
            client.set_tag(parent_id, tracking.ERROR_TAG, f"{type(exc).__name__}: {exc}"[:4000])
            client.set_terminated(parent_id, "FAILED")
        raise
    summary = summarize(study, client, parent_id)
    client.set_terminated(parent_id, "FINISHED")
    return f"Sweep {name}: {summary} ({time.perf_counter() - started:.0f} s this time)."


def summarize(study: optuna.Study, client: MlflowClient, parent_id: str) -> str:
    """Best params, counts and plots on the parent run; returns a one-line summary."""
    from optuna.trial import TrialState

    counts = {state: len(study.get_trials(deepcopy=False, states=(state,)))
              for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    client.log_metric(parent_id, "trials_complete", counts[TrialState.COMPLETE])
    client.log_metric(parent_id, "trials_pruned", counts[TrialState.PRUNED])
    client.log_metric(parent_id, "trials_failed", counts[TrialState.FAIL])
    if not counts[TrialState.COMPLETE]:
        return "no trial completed"
    best = study.best_trial
    client.log_metric(parent_id, "best_val_accuracy", best.value)
    client.log_metric(parent_id, "best_test_accuracy", best.user_attrs["test_accuracy"])
    client.set_tag(parent_id, "best.trial", str(best.number))
    client.set_tag(parent_id, "best.run_id", best.user_attrs["run_id"])
    for key, value in best.params.items():
        client.set_tag(parent_id, f"best_params.{key}", str(value))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "best_params.json").write_text(json.dumps(
            {"trial": best.number, "val_accuracy": best.value, "params": best.params,
             "test_accuracy": best.user_attrs["test_accuracy"]}, indent=2))
        study.trials_dataframe().to_csv(folder / "trials.csv", index=False)
        write_plots(study, folder)
        client.log_artifacts(parent_id, str(folder))
    return (f"{counts[TrialState.COMPLETE]} complete, {counts[TrialState.PRUNED]} pruned, "
            f"{counts[TrialState.FAIL]} failed; best trial {best.number} {best.params}: "
            f"validation {best.value:.2%}, test {best.user_attrs['test_accuracy']:.2%}")


def write_plots(study: optuna.Study, folder: Path) -> list[str]:
    """Optuna's plotly figures: each as JSON under plots/, all in one offline HTML page."""
    import optuna.visualization as vis

    (folder / "plots").mkdir()
    figures = []
    for name in PLOTS:
        try:
            figure = getattr(vis, f"plot_{name}")(study)
        except Exception:  # e.g. importances need two varied parameters
            continue
        (folder / "plots" / f"{name}.json").write_text(figure.to_json())
        figures.append(figure)
    if figures:
        # One plotly.js copy for every figure: opens without network, 4 MB not 16.
        parts = [f.to_html(full_html=False, include_plotlyjs=(i == 0))
                 for i, f in enumerate(figures)]
        (folder / "sweep_plots.html").write_text(
            "<html><head><meta charset='utf-8'><title>Sweep</title></head><body>"
            + "".join(parts) + "</body></html>")
    return [f.layout.title.text or "" for f in figures]
