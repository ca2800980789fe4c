"""One typed settings object for the inference core, shared by the app, CLIs and training."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _runs_dir() -> Path:
    return Path(os.environ.get("DIGIT_STUDIO_RUNS", PROJECT_DIR / "runs"))


def _monitor_db() -> Path:
    return Path(os.environ.get("DIGIT_STUDIO_MONITOR_DB") or _runs_dir() / "monitor.db")


@dataclass(frozen=True)
class Settings:
    """Constants that more than one module relies on; change them here only."""

    # MNIST geometry: digits are 28x28, the ink fitted into a 20x20 box and
    # centred by centre of mass (LeCun et al.), which is what the reader mimics.
    image_size: int = 28
    digit_box: int = 20
    num_classes: int = 10

    # Model folders: the shipped model lives inside the package; models trained
    # locally go under runs/ (override with DIGIT_STUDIO_RUNS).
    shipped_model_dir: Path = PACKAGE_DIR / "shipped"
    runs_dir: Path = field(default_factory=_runs_dir)
    keras_file: str = "model.keras"
    onnx_file: str = "model.onnx"
    card_file: str = "card.json"

    # Below this probability (the picture's own, or averaged with its nudges: model.reader)
    # a digit is reported as "not sure". 0.90: with the model of 30 November, the lowest
    # threshold at which digits of other writers the model never trained on (held-out
    # USPS train digits as scans) are sure and right >= 99.5 % of the time (`python -m
    # training.abstain`; only 729 digits: with today's model 0.60 passes). On USPS test
    # 0.70 lets 1.0 % of the sure readings be wrong, 0.90 lets 0.6 % (tests/test_usps.py
    # holds it under 1 %).
    min_confidence: float = 0.90

    @property
    def tracking_uri(self) -> str:
        """Where MLflow runs and the model registry live: `$MLFLOW_TRACKING_URI` (a server,
        an Azure ML workspace) or else a SQLite store in runs/ that works offline."""
        return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{self.runs_dir / 'mlflow.db'}"

    @property
    def artifacts_dir(self) -> Path:
        """Artifacts of experiments created in the local store (beside `mlflow.db`)."""
        return self.runs_dir / "mlartifacts"

    # The prediction log (model.predlog) and the alerts of the Monitor page: a PSI
    # above 0.2 is the usual "the population has shifted" line.
    alert_drift_psi: float = 0.2
    alert_not_sure_share: float = 0.25
    alert_latency_p95_ms: float = 250.0

    @property
    def monitor_db(self) -> Path:
        """$DIGIT_STUDIO_MONITOR_DB, else monitor.db under runs/ (read at each call)."""
        return _monitor_db()


SETTINGS = Settings()
