"""Batch scoring: on a batch endpoint (`deploy-batch`, `batch-score`) or here (`batch-local`).

`batch-local` runs `model/batch_score.py` itself, mini-batch by mini-batch as Azure
ML's parallel runner does, and writes the rows `append_row` would, under the
header line; `batch-score` writes the endpoint's CSV in the same form.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from model.files import atomic_write_bytes
from model.settings import SETTINGS
from training.azure.commands import Options
from training.azure.deploy import MINI_BATCH, OUTPUT_FILE

Report = Callable[[str], None]


def input_files(folder: Path) -> list[Path]:
    """The files a batch job would get from a uri_folder: every file below, sorted."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def write_csv(rows: list[str], out: Path) -> Path:
    from model.batch_score import HEADER

    return atomic_write_bytes(out, ("\n".join([HEADER, *rows]) + "\n").encode())


def batch_local(folder: Path, out: Path, mini_batch: int = MINI_BATCH,
                model_dir: Path | None = None, report: Report = print) -> tuple[int, int]:
    """Score every file of `folder` with the batch script; (files, files with an error)."""
    import os

    from model import batch_score

    if model_dir is not None:
        os.environ["AZUREML_MODEL_DIR"] = str(model_dir)  # as Azure mounts the model
    files = input_files(folder)
    batch_score.init()
    rows: list[str] = []
    for start in range(0, len(files), mini_batch):
        rows += batch_score.run([str(p) for p in files[start:start + mini_batch]])
    write_csv(rows, out)
    failed = sum(1 for row in rows if _has_error(row))
    report(f"{len(files)} files, {failed} not read -> {out}")
    return len(files), failed


def _has_error(row: str) -> bool:
    import csv

    fields = next(csv.reader([row]))
    return not fields[1] and bool(fields[4])


def deploy_batch(opts: Options, report: Report = print) -> None:
    """Cluster, environment and batch endpoint if missing, then the deployment as default."""

    from training.azure.live import _loaded, _prerequisites, ensure_endpoint
    from training.azure.workspace import azure_errors, ml_client

    ml = ml_client()
    loaded = _loaded("deploy-batch", opts)
    _prerequisites(ml, loaded, report)
    endpoint = next(e for f, e in loaded.items() if f.startswith("batch-endpoint"))
    deployment = next(e for f, e in loaded.items() if f.startswith("batch-deployment"))
    endpoint = ensure_endpoint(ml.batch_endpoints, endpoint, "batch endpoint", report)
    with azure_errors(f"deploy {deployment.name}"):
        ml.batch_deployments.begin_create_or_update(deployment).result()
        endpoint = ml.batch_endpoints.get(endpoint.name)
        endpoint.defaults.deployment_name = deployment.name
        ml.batch_endpoints.begin_create_or_update(endpoint).result()
    report(f"deployed {deployment.name} as the default of {endpoint.name}")


def batch_score(folder: Path, out: Path, opts: Options, report: Report = print) -> None:
    """Upload `folder`, run the batch endpoint on it, download its CSV to `out`."""
    from azure.ai.ml import Input
    from azure.ai.ml.constants import AssetTypes

    from training.azure.deploy import BATCH_ENDPOINT
    from training.azure.workspace import azure_errors, ml_client

    ml = ml_client()
    with azure_errors("invoke the batch endpoint"):
        job = ml.batch_endpoints.invoke(endpoint_name=opts.endpoint or BATCH_ENDPOINT,
                                        input=Input(type=AssetTypes.URI_FOLDER,
                                                    path=str(folder.resolve())))
        report(f"submitted {job.name}: {job.studio_url}")
        ml.jobs.stream(job.name)
    download = Path(tempfile.mkdtemp(dir=SETTINGS.runs_dir))
    with azure_errors(f"download the output of {job.name}"):
        ml.jobs.download(job.name, output_name="score", download_path=download)
    found = sorted(download.rglob(OUTPUT_FILE))
    if not found:
        from training.azure.workspace import NotConfigured

        raise NotConfigured(f"Job {job.name} finished without {OUTPUT_FILE}.")
    rows = [line for line in found[0].read_text().splitlines() if line.strip()]
    write_csv(rows, out)
    report(f"{len(rows)} rows -> {out}")
