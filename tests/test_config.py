"""Training options: presets, command-line overrides, and how block counts follow filters."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from training.config import PRESETS, TrainConfig, add_arguments, config_from_args


def parse(*argv: str) -> TrainConfig:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return config_from_args(parser.parse_args(list(argv)))


def test_no_options_give_the_preset() -> None:
    assert parse() == PRESETS["default"]
    assert parse("--preset", "classroom") == PRESETS["classroom"]


def test_options_override_only_what_they_name() -> None:
    cfg = parse("--preset", "classroom", "--epochs", "5", "--no-augment")
    assert cfg.epochs == 5 and cfg.augment is False
    assert cfg.filters == PRESETS["classroom"].filters


def test_filters_and_convs_are_parsed_per_block() -> None:
    cfg = parse("--filters", "8,16,32", "--convs", "2,1,1")
    assert cfg.filters == (8, 16, 32) and cfg.convs == (2, 1, 1)
    assert cfg.to_dict()["convs"] == [2, 1, 1]


def test_new_filters_drop_convs_meant_for_other_blocks() -> None:
    assert parse("--filters", "32,64").convs is None


def test_mismatched_convs_are_one_clear_error() -> None:
    with pytest.raises(SystemExit, match="one count per block"):
        parse("--filters", "8,16", "--convs", "1,1,2")


@pytest.mark.parametrize("bad", ["a,b", "0", ""])
def test_bad_counts_are_rejected_by_the_parser(bad: str) -> None:
    with pytest.raises(SystemExit):
        parse("--filters", bad)


@pytest.mark.parametrize(("argv", "words"), [
    (["--learning-rate", "-0.1"], "learning rate"),
    (["--epochs", "0"], "epochs"),
    (["--dropout", "1.5"], "dropout"),
    (["--filters", "8,16,32,64,128"], "at most 4 blocks"),
    (["--styles-own-orders", "1.5"], "own stroke order"),
])
def test_invalid_settings_are_one_clear_error(argv: list[str], words: str) -> None:
    with pytest.raises(SystemExit, match=words):
        parse(*argv)


def test_validate_names_every_problem_in_one_sentence() -> None:
    import dataclasses

    from training.config import ConfigError, validate

    assert validate(PRESETS["classroom"]) is PRESETS["classroom"]
    bad = dataclasses.replace(PRESETS["default"], filters=(0, 8), learning_rate=-1.0)
    with pytest.raises(ConfigError) as caught:
        validate(bad)
    message = str(caught.value)
    assert "filter" in message and "learning rate" in message
    assert message.endswith(".") and message.count(".") == 1


def test_make_train_is_the_recipe_of_the_shipped_model() -> None:
    """`make train` runs `--preset mix`; the shipped model's card says what it was trained
    with. A preset changed without retraining (or the reverse) breaks the promise that
    `make train` reproduces the shipped model."""
    from model.files import read_card
    from model.settings import SETTINGS

    card = read_card(SETTINGS.shipped_model_dir)
    recipe = PRESETS["mix"].to_dict()
    # A field added since the model was trained is not on its card; the recipe must keep
    # its default, which trains as before (styles_own_orders: 0 draws no random number).
    newer = {k: v for k, v in recipe.items() if k not in card["hyperparameters"]}
    assert newer == {k: TrainConfig().to_dict()[k] for k in newer}
    assert card["hyperparameters"] == {k: v for k, v in recipe.items() if k not in newer}
    makefile = Path(__file__).resolve().parents[1] / "Makefile"
    assert "--preset mix --output model/shipped" in makefile.read_text()
