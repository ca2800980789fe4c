"""Batch scoring script for an Azure ML batch endpoint (ModelBatchDeployment).

Azure calls :func:`init` once per worker and :func:`run` with each mini-batch (a list
of file paths); with ``output_action: append_row`` every string returned becomes
one line of the output file. Each file gives one CSV row::

    file,text,confidence,sure,error

`confidence` is the least confident digit's probability, `error` the reason a file
could not be read (the other fields then empty). `python -m training.azure
batch-local FOLDER --out CSV` runs this very script here and writes the same rows
under the header line :data:`HEADER`.
"""

from __future__ import annotations

import csv
import io
import runpy
from pathlib import Path

# Azure mounts model/ under a name of its own: make `import model` mean this folder.
runpy.run_path(str(Path(__file__).resolve().with_name("mount.py")))

from model.service import LoadedModel, load_model, read_image  # noqa: E402

COLUMNS = ("file", "text", "confidence", "sure", "error")
HEADER = ",".join(COLUMNS)
CONFIDENCE_DIGITS = 4

_model: LoadedModel | None = None


def init() -> None:
    """Load the model once: AZUREML_MODEL_DIR in Azure, else the champion."""
    global _model
    _model = load_model()


def run(mini_batch: list[str]) -> list[str]:
    """One CSV row per file of the mini-batch; a bad file gives a row with its error."""
    if _model is None:
        init()
    assert _model is not None
    return [_row(Path(path), _model) for path in mini_batch]


def _row(path: Path, model: LoadedModel) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _csv(path.name, "", "", "", f"The file cannot be read ({exc.strerror}).")
    record, _ = read_image(data, model, False, source="batch", name=path.name)
    if "error" in record:
        return _csv(path.name, "", "", "", record["error"])
    digits = record["digits"]
    confidence = min((d["confidence"] for d in digits), default=0.0)
    return _csv(path.name, record["text"], f"{confidence:.{CONFIDENCE_DIGITS}f}",
                str(record["sure"]).lower(), record.get("note", ""))


def _csv(*fields: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()
