"""The Train form's recipe (training.recipes), progress lines (training.progress) and the
training figures (pages.common.training_charts): no training, no Streamlit."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from pages.common import training_charts as tc
from training.config import PRESETS, ConfigError, add_arguments, config_from_args
from training.progress import read_progress
from training.recipes import form_values, from_form, to_cli_args


def test_the_form_shows_a_preset_and_gives_it_back() -> None:
    for name, preset in PRESETS.items():
        assert from_form(name, form_values(preset)) == preset


def test_form_values_are_parsed_and_checked() -> None:
    cfg = from_form("classroom", {"filters": "8, 16,32", "convs": "1,1,2", "limit": 0,
                                  "epochs": 2.0})
    assert cfg.filters == (8, 16, 32) and cfg.convs == (1, 1, 2)
    assert cfg.limit is None and cfg.epochs == 2 and isinstance(cfg.epochs, int)
    for values, words in (({"filters": "8,x"}, "whole numbers"),
                          ({"filters": ""}, "at least 1 filter"),
                          ({"learning_rate": 0.0}, "learning rate"),
                          ({"nonsense": 1}, "unknown option")):
        with pytest.raises(ConfigError, match=words):
            from_form("classroom", values)
    with pytest.raises(ConfigError, match="unknown preset"):
        from_form("huge", {})


@pytest.mark.parametrize("values", [
    {}, {"filters": "8,16,32"}, {"filters": "8,16", "convs": "2,1"}, {"augment": True,
                                                                      "limit": 5000},
    {"learning_rate": 0.001, "schedule": "constant", "dropout": 0.0},
])
def test_cli_args_rebuild_the_recipe(values: dict) -> None:
    cfg = from_form("classroom", values)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert config_from_args(parser.parse_args(to_cli_args(cfg, "classroom"))) == cfg


def _lines(path: Path, lines: list[dict]) -> None:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_progress_lines_give_curves_and_position(tmp_path: Path) -> None:
    path = tmp_path / "progress.jsonl"
    assert read_progress(path).batches == 0  # no file yet: no progress
    _lines(path, [
        {"type": "begin", "epochs": 2, "batches": 10, "seconds": 0},
        {"type": "batch", "epoch": 1, "batch": 5, "batches": 10, "loss": 2.0, "accuracy": 0.3,
         "eta": 15.0, "seconds": 5},
        {"type": "batch", "epoch": 1, "batch": 10, "batches": 10, "loss": 1.0, "accuracy": 0.6,
         "eta": 10.0, "seconds": 10},
        {"type": "epoch", "epoch": 1, "loss": 1.0, "accuracy": 0.6, "val_loss": 0.9,
         "val_accuracy": 0.7, "eta": 10.0, "seconds": 10},
        {"type": "batch", "epoch": 2, "batch": 3, "batches": 10, "loss": None,
         "accuracy": 0.8, "eta": 7.0, "seconds": 13},
    ])
    with open(path, "a") as torn:
        torn.write('{"type": "batch", "epo')  # the writer is mid-line
    progress = read_progress(path)
    assert (progress.epochs, progress.batches, progress.epoch, progress.batch) == (2, 10, 2, 3)
    assert progress.eta == 7.0 and progress.seconds == 13 and not progress.ended
    assert progress.curve("loss") == ([0.5, 1.0], [2.0, 1.0])  # a missing value is no point
    assert progress.curve("accuracy") == ([0.5, 1.0, 1.3], [0.3, 0.6, 0.8])
    assert progress.curve("val_accuracy") == ([1], [0.7])


def test_training_figures() -> None:
    fig = tc.learning_curve(([0.5, 1.0], [2.0, 1.0]), ([1], [0.9]), "loss", epochs=3)
    assert [t.name for t in fig.data] == ["training loss", "validation loss"]
    assert list(fig.layout.xaxis.range) == [0, pytest.approx(3.06)]
    over = tc.overlaid_curves({"a": ([1, 2], [0.5, 0.7]), "b": ([1], [0.6])}, "val_accuracy")
    assert [t.name for t in over.data] == ["a", "b"]
    history = tc.optimisation_history([0.5, 0.7, 0.6], "val_accuracy")
    assert list(history.data[1].y) == [0.5, 0.7, 0.7]
    par = tc.parallel_coordinates({"filters": [0, 1], "val_accuracy": [0.5, 0.7]},
                                  "val_accuracy", {"filters": ["8,16", "16,32"]})
    assert list(par.data[0].dimensions[0].ticktext) == ["8,16", "16,32"]
    channels = tc.accuracy_vs_channels([20, 2, 5], [0.98, 0.6, 0.9])
    assert list(channels.data[0].x) == [2, 5, 20] and list(channels.data[0].y) == [0.6, 0.9,
                                                                                   0.98]
    size = tc.accuracy_vs_size(np.array([1000, 20000]), [0.9, 0.99], ["a", "b"])
    assert size.layout.xaxis.type == "log"
