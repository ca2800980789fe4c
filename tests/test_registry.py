"""The model registry for real: two tiny trained models in a SQLite store under tmp_path,
registered with their USPS accuracy, refused while the shipped model is the baseline,
promoted through the gate, rolled back; and the inference side (`model.champion`)
falling back to the shipped model with a note."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.champion import ALIAS, MODEL_NAME, resolve_model
from training.baseline import shipped_test_accuracy
from training.config import PRESETS
from training.gate import check_gate

PROJECT_DIR = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_DIR / "assets" / "samples"
USPS_LIMIT = 200  # registrations score the first 200 USPS test digits (the gate compares alike)
WEAK = dataclasses.replace(PRESETS["classroom"], limit=2000, epochs=1)
STRONG = dataclasses.replace(PRESETS["classroom"], limit=4000, epochs=2, batch_size=64)
LOCK_TIMEOUT_S = 3.0
BASELINE_USPS = 40  # the shipped model's baseline on the first 40 USPS digits (quick)

# The gate's bar with no champion: the shipped model's MNIST test accuracy, from its card.
SHIPPED_MNIST = shipped_test_accuracy()


def uri_of(tmp: Path) -> str:
    return f"sqlite:///{tmp / 'm.db'}"


def cli(module: str, *args: str, tmp: Path, timeout: int = 300):
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri_of(tmp)}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path):
    """A store holding two finished runs: a weak model and a stronger one."""
    from training.train import train

    tmp = tmp_path_factory.mktemp("registry")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri_of(tmp))
        weak = train(WEAK, tmp / "weak", mnist_dir, experiment="reg")
        strong = train(STRONG, tmp / "strong", mnist_dir, experiment="reg")
        yield tmp, weak, strong


def evaluated_model(tmp: Path, mnist_dir: Path) -> tuple[dict, float, str]:
    done = cli("training.evaluate", "--json", "--data-dir", str(mnist_dir), tmp=tmp)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    return result["model"], result["accuracy"], done.stderr


@pytest.mark.slow
def test_register_promote_gate_and_rollback(store, mnist_dir: Path, monkeypatch) -> None:
    from streamlit.testing.v1 import AppTest

    from training import registry

    tmp, weak, strong = store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri_of(tmp))
    assert strong["test"]["accuracy"] - weak["test"]["accuracy"] > 0.05  # the setup itself
    assert registry.versions() == []
    v1 = registry.register_run(weak["mlflow"]["run_id"], usps_limit=USPS_LIMIT)
    v2 = registry.register_run(strong["mlflow"]["run_id"], usps_limit=USPS_LIMIT)
    assert (v1, v2) == ("1", "2")
    assert registry.register_run(weak["mlflow"]["run_id"], usps_limit=USPS_LIMIT) == "1"
    rows = {row["version"]: row for row in registry.versions()}
    assert rows["1"]["test_accuracy"] == weak["test"]["accuracy"]
    assert rows["2"]["usps_n"] == USPS_LIMIT and 0 <= rows["2"]["usps_accuracy"] <= 1

    # With no champion the shipped model is the baseline: a tiny model is refused, with
    # the reason, through the CLI too, and only --force makes it the first champion.
    refused = registry.promote(v1, reason="first")
    assert not refused.ok
    assert f"points below the shipped model's {SHIPPED_MNIST:.2%}" in refused.reason
    done = cli("training.registry", "promote", v1, tmp=tmp)
    assert done.returncode == 1 and "below the shipped model's" in done.stdout
    assert not any(row["champion"] for row in registry.versions())
    forced = registry.promote(v1, force=True, reason="first")
    assert forced.ok and "forced past the gate" in forced.reason
    assert registry.promote(v2, reason="better").ok
    model, accuracy, _ = evaluated_model(tmp, mnist_dir)
    assert model == {"name": MODEL_NAME, "version": "2"}
    assert accuracy == pytest.approx(strong["test"]["accuracy"], abs=0.002)

    # The gate refuses the weaker model, through the CLI too; the champion stays.
    refused = registry.promote(v1)
    assert not refused.ok and "points below the champion's" in refused.reason
    done = cli("training.registry", "promote", v1, tmp=tmp)
    assert done.returncode == 1 and done.stdout.startswith("refused: ")
    assert resolve_model().version == "2"

    # The app's sidebar names the version answering, never a path; a change reaches it.
    app = AppTest.from_file(str(PROJECT_DIR / "app.py"), default_timeout=60).run()
    assert not app.exception
    sidebar = " ".join(str(m.value) for m in app.sidebar.markdown)
    assert f"{MODEL_NAME} v2 ({ALIAS})" in sidebar and str(tmp) not in sidebar

    # With the champion downloaded once, the app starts without importing mlflow at all.
    script = ("import sys\nfrom streamlit.testing.v1 import AppTest\n"
              f"at = AppTest.from_file({str(PROJECT_DIR / 'app.py')!r}).run(timeout=60)\n"
              "assert not at.exception, at.exception\n"
              "print(' '.join(str(m.value) for m in at.sidebar.markdown))\n"
              "print('mlflow' in sys.modules, 'tensorflow' in sys.modules)\n")
    started = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_DIR, text=True,
                             capture_output=True, timeout=180,
                             env={**os.environ, "MLFLOW_TRACKING_URI": uri_of(tmp)})
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.splitlines()[-2:] == [f"**{MODEL_NAME} v2 ({ALIAS})**", "False False"]

    back = registry.rollback(reason="users complain")
    assert back.ok and "v1 is the champion again" in back.reason
    model, _, _ = evaluated_model(tmp, mnist_dir)
    assert model == {"name": MODEL_NAME, "version": "1"}
    app.run()
    assert f"{MODEL_NAME} v1 ({ALIAS})" in " ".join(str(m.value) for m in app.sidebar.markdown)

    # Every move is in the history with its time and reason, and on the version's tags.
    moves = [e for e in registry.history() if e["action"] != "register"]
    assert [(e["action"], e["version"], e["reason"]) for e in moves] == [
        ("promote", "1", "first"), ("promote", "2", "better"),
        ("rollback", "1", "users complain")]
    assert all(e["time"].endswith("Z") for e in moves)
    assert {r["version"]: r for r in registry.versions()}["1"]["rollback_reason"] == \
        "users complain"

    assert not registry.rollback().ok  # v1 was the first champion
    done = cli("training.registry", "rollback", "--force", "--json", tmp=tmp)
    assert done.returncode == 0 and json.loads(done.stdout)["ok"]
    model, _, note = evaluated_model(tmp, mnist_dir)
    assert model["version"] is None and "no champion" in note


def test_only_a_finished_run_with_its_whole_folder_is_registered(tmp_path: Path,
                                                                monkeypatch) -> None:
    from mlflow import MlflowClient

    from training import registry, tracking

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri_of(tmp_path))
    tracking.use_store()
    client = MlflowClient()
    experiment = tracking.ensure_experiment("half")
    killed = client.create_run(experiment).info.run_id
    client.set_terminated(killed, "KILLED")
    with pytest.raises(registry.RegistryError, match="only a finished run"):
        registry.register_run(killed)
    empty = client.create_run(experiment).info.run_id
    client.log_metric(empty, "test_accuracy", 0.99)
    client.set_terminated(empty, "FINISHED")
    with pytest.raises(registry.RegistryError, match="no complete model folder"):
        registry.register_run(empty)
    done = cli("training.registry", "register", "0123456789abcdef", tmp=tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr and registry.versions() == []


@pytest.mark.parametrize("candidate, ok, says", [
    ({"test_accuracy": 0.990, "usps_accuracy": 0.95}, True, "(champion 99.00%)"),
    ({"test_accuracy": 0.988, "usps_accuracy": 0.95}, True, ""),  # 0.2 points: allowed
    ({"test_accuracy": 0.9879, "usps_accuracy": 0.99}, False, "0.21 points below"),
    ({"test_accuracy": 0.995, "usps_accuracy": 0.949}, False, "USPS accuracy 94.90%"),
    ({"test_accuracy": 0.995}, False, "no USPS accuracy"),
])
def test_the_gate(candidate: dict, ok: bool, says: str) -> None:
    champion = {"test_accuracy": 0.990, "usps_accuracy": 0.95}
    result = check_gate(candidate, champion)
    assert result.ok is ok and says in result.reason
    nothing = check_gate(candidate, None)  # nothing to compare with is never a pass
    assert not nothing.ok and "no MNIST test accuracy to compare" in nothing.reason


def test_an_empty_registry_refuses_a_tiny_model_against_the_shipped_one() -> None:
    from training.baseline import check_candidate

    tiny = {"test_accuracy": 0.1135, "usps_accuracy": 0.1, "usps_n": 50}
    result = check_candidate(tiny, None)  # no champion: the shipped model's figures
    assert not result.ok
    gap = (SHIPPED_MNIST - 0.1135) * 100
    assert result.reason == (f"MNIST test accuracy 11.35% is {gap:.2f} points below the shipped "
                             f"model's {SHIPPED_MNIST:.2%} (at most 0.2 allowed).")
    assert not check_candidate({"test_accuracy": 0.997}, None).ok  # USPS unmeasured


def test_the_shipped_baseline_is_measured_once_per_checksum_and_count(tmp_path: Path,
                                                                      monkeypatch) -> None:
    from model.settings import SETTINGS
    from training import baseline

    monkeypatch.setattr(baseline, "SETTINGS", dataclasses.replace(SETTINGS, runs_dir=tmp_path))
    measured = []

    def counted(folder: Path, limit: int | None = None) -> tuple[float, int]:
        measured.append(limit)
        return real(folder, limit)

    real = baseline.measure_usps
    monkeypatch.setattr(baseline, "measure_usps", counted)
    first = baseline.shipped_usps(BASELINE_USPS)
    assert baseline.shipped_usps(BASELINE_USPS) == first and measured == [BASELINE_USPS]
    cache = json.loads((tmp_path / baseline.CACHE_FILE).read_text())
    key = f"{baseline.model_checksum(SETTINGS.shipped_model_dir)}/{BASELINE_USPS}"
    assert cache[key]["usps_accuracy"] == first and cache[key]["usps_n"] == BASELINE_USPS
    # A candidate as good as the shipped model on both passes; one digit worse on USPS not.
    same = {"test_accuracy": 0.997, "usps_accuracy": first, "usps_n": BASELINE_USPS}
    assert baseline.check_candidate(same, None).ok
    worse = {**same, "usps_accuracy": first - 1 / BASELINE_USPS}
    assert "below the shipped model's" in baseline.check_candidate(worse, None).reason
    assert measured == [BASELINE_USPS]  # from the cache, not read again


def test_no_registry_is_the_shipped_model_without_importing_mlflow(tmp_path: Path) -> None:
    code = ("import sys; from model.champion import resolve_model; c = resolve_model(); "
            "print(c.label, c.version, 'mlflow' in sys.modules); print(c.note)")
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri_of(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, env=env,
                          capture_output=True, text=True, timeout=180, check=True)
    first, note = done.stdout.splitlines()
    assert first == "shipped None False" and "no model registry" in note
    assert not (tmp_path / "m.db").exists()


def test_empty_registry_says_no_champion(tmp_path: Path, monkeypatch) -> None:
    from training.tracking import init_store

    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri_of(tmp_path))
    init_store(uri_of(tmp_path))
    choice = resolve_model()
    assert choice.label == "shipped" and "no champion yet" in choice.note


def test_corrupt_store_reads_digits_with_the_shipped_model(tmp_path: Path, monkeypatch,
                                                          shipped_dir: Path) -> None:
    (tmp_path / "m.db").write_bytes(b"this is not an SQLite database\n" * 200)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri_of(tmp_path))
    choice = resolve_model()
    assert choice.path == shipped_dir and "cannot be read" in choice.note
    scan = sorted(SAMPLE.glob("*.png"))[0]
    done = cli("model.predict", "--json", str(scan), tmp=tmp_path, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert done.stderr.startswith("note: The model registry cannot be read (it is not an")
    assert json.loads(done.stdout.splitlines()[0])["text"]


def test_locked_store_answers_within_the_bound(tmp_path: Path, monkeypatch) -> None:
    from training.tracking import init_store

    init_store(uri_of(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri_of(tmp_path))
    holder = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        started = time.monotonic()
        choice = resolve_model(timeout=LOCK_TIMEOUT_S)
        elapsed = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert choice.label == "shipped" and choice.note
    assert elapsed < LOCK_TIMEOUT_S + 1.0
