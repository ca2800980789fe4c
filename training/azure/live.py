"""The commands against a real workspace. Each one first builds and loads the same YAML
a dry run writes (`training.azure.commands`), then creates what is missing and submits.

Every SDK call runs inside `azure_errors`, so a failure is one sentence
(`NotConfigured`), never a traceback. Nothing here runs without a workspace: there
is no fake client and no offline stand-in.
"""

from __future__ import annotations

import base64
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from model.settings import SETTINGS
from training.azure.commands import Options, dry_run, entities
from training.azure.workspace import STUDIO, NotConfigured, azure_errors, ml_client

Report = Callable[[str], None]


def _loaded(command: str, opts: Options) -> dict[str, Any]:
    """The command's specs written to a private folder and loaded by the SDK."""
    SETTINGS.runs_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"azure-{command}-", dir=SETTINGS.runs_dir))
    checked = dry_run(command, opts, folder)
    bad = [c for c in checked if not c.ok]
    if bad:
        raise NotConfigured(f"The {bad[0].path.name} spec does not load: {bad[0].error}")
    return entities(checked)


def _ensure(ml: Any, entity: Any, report: Report) -> None:
    """Create a compute, environment or data asset unless that name (and version) exists."""
    from azure.ai.ml.entities import AmlCompute, Data, Environment
    from azure.core.exceptions import ResourceNotFoundError

    if isinstance(entity, AmlCompute):
        operations, key = ml.compute, (entity.name,)
    elif isinstance(entity, Environment):
        operations, key = ml.environments, (entity.name, entity.version)
    elif isinstance(entity, Data):
        operations, key = ml.data, (entity.name, entity.version)
    else:
        return
    label = ":".join(str(k) for k in key)
    try:
        operations.get(*key)
        report(f"exists   {label}")
        return
    except ResourceNotFoundError:
        pass
    with azure_errors(f"create {label}"):
        if isinstance(entity, AmlCompute):
            ml.compute.begin_create_or_update(entity).result()
        else:
            operations.create_or_update(entity)  # a data asset's files are uploaded here
    report(f"created  {label}")


def _prerequisites(ml: Any, loaded: dict[str, Any], report: Report) -> None:
    for entity in loaded.values():
        with azure_errors("look up the workspace's assets"):
            _ensure(ml, entity, report)


def submit(command: str, opts: Options, *, wait: bool = False,
           report: Report = print) -> tuple[str, str]:
    """Submit `train`, `sweep` or `pipeline` (and its schedule); (job name, studio URL)."""
    ml = ml_client()
    loaded = _loaded(command, opts)
    _prerequisites(ml, loaded, report)
    job_file = {"train": "train-job.yml", "sweep": "sweep-job.yml",
                "pipeline": "pipeline-job.yml"}[command]
    with azure_errors(f"submit the {command} job"):
        job = ml.jobs.create_or_update(loaded[job_file], experiment_name=opts.experiment
                                       if command == "train" else None)
        if "schedule.yml" in loaded:
            ml.schedules.begin_create_or_update(loaded["schedule.yml"]).result()
            report(f"schedule {loaded['schedule.yml'].name}: {opts.schedule}")
    url = job.studio_url or STUDIO
    report(f"submitted {job.name}: {url}")
    if wait:
        with azure_errors(f"follow job {job.name}"):
            ml.jobs.stream(job.name)
    return job.name, url


def job_status(name: str) -> dict[str, Any]:
    """A job's status and studio link, and once it completed, its model card's metrics.

    The metrics come from the job's `model` output (card.json), downloaded once: reading
    the workspace's MLflow runs from here would need azureml-mlflow, which the app's
    environment leaves out.
    """
    from training.azure import specs

    ml = ml_client()
    with azure_errors(f"read job {name}"):
        job = ml.jobs.get(name)
    status = {"name": job.name, "status": job.status, "studio_url": job.studio_url,
              "experiment": job.experiment_name, "metrics": {}}
    if job.status == "Completed" and job.type == "command":
        folder = SETTINGS.runs_dir / "azure-jobs" / name
        if not any(folder.rglob("card.json")):
            with azure_errors(f"download the model card of job {name}"):
                ml.jobs.download(name, output_name="model", download_path=folder)
        cards = sorted(folder.rglob("card.json"))
        if cards:
            status["metrics"] = specs.card_tags(cards[0].parent)
    return status


def register(opts: Options, report: Report = print) -> str:
    """Register a job's model output, with the card's metrics as tags; the new version."""
    from azure.ai.ml import load_model

    from training.azure import specs

    ml = ml_client()
    if opts.job:
        with azure_errors(f"download the model card of job {opts.job}"):
            folder = Path(tempfile.mkdtemp(dir=SETTINGS.runs_dir))
            ml.jobs.download(opts.job, output_name="model", download_path=folder)
        cards = sorted(folder.rglob("card.json"))
        opts.model_dir = cards[0].parent if cards else None
    spec = specs.model_asset(SETTINGS.runs_dir, job=opts.job, folder=opts.model_dir,
                             tags=specs.card_tags(opts.model_dir) if opts.model_dir else None)
    if opts.job:
        spec.body["path"] = f"azureml://jobs/{opts.job}/outputs/model"
    path = SETTINGS.runs_dir / spec.file
    path.write_text(spec.text())
    with azure_errors("register the model"):
        model = ml.models.create_or_update(load_model(source=path))
    report(f"registered {model.name}:{model.version} {json.dumps(model.tags)}")
    return str(model.version)


def ensure_endpoint(operations: Any, endpoint: Any, kind: str, report: Report) -> Any:
    """The workspace's endpoint of that name, created from `endpoint` when it is missing."""
    from azure.core.exceptions import ResourceNotFoundError

    with azure_errors(f"create {kind} {endpoint.name}"):
        try:
            found = operations.get(endpoint.name)
            report(f"exists   {kind} {endpoint.name}")
            return found
        except ResourceNotFoundError:
            created = operations.begin_create_or_update(endpoint).result()
            report(f"created  {kind} {endpoint.name}")
            return created


def deploy_online(opts: Options, traffic: int | None, report: Report = print) -> None:
    """Endpoint (key auth) if missing, the deployment, then the traffic split."""

    ml = ml_client()
    loaded = _loaded("deploy-online", opts)
    _prerequisites(ml, loaded, report)
    endpoint = next(e for f, e in loaded.items() if f.startswith("online-endpoint"))
    deployment = next(e for f, e in loaded.items() if f.startswith("online-deployment"))
    endpoint = ensure_endpoint(ml.online_endpoints, endpoint, "endpoint", report)
    with azure_errors(f"deploy {deployment.name}"):
        ml.online_deployments.begin_create_or_update(deployment).result()
    report(f"deployed {deployment.name} (model {deployment.model})")
    with azure_errors("set the traffic"):
        endpoint = ml.online_endpoints.get(endpoint.name)
        endpoint.traffic = split_traffic(dict(endpoint.traffic or {}), deployment.name, traffic)
        ml.online_endpoints.begin_create_or_update(endpoint).result()
    report(f"traffic  {endpoint.traffic}")


def split_traffic(current: dict[str, int], new: str, percent: int | None) -> dict[str, int]:
    """Give `new` `percent` (all of it when it is the only one); scale the others to the rest."""
    others = {k: v for k, v in current.items() if k != new and v > 0}
    if percent is None:
        percent = 0 if others else 100
    rest, total = 100 - percent, sum(others.values())
    split = {k: (v * rest) // total for k, v in others.items()} if total else {}
    if split:  # rounding leftovers go to the largest
        split[max(split, key=split.get)] += rest - sum(split.values())
    return {**split, new: percent}


def invoke(files: list[Path], opts: Options, single: bool, report: Report = print) -> None:
    """Send images to the online endpoint and print its answer."""
    ml = ml_client()
    body = {"images": [base64.b64encode(f.read_bytes()).decode() for f in files],
            "single": single}
    request = SETTINGS.runs_dir / "azure-invoke.json"
    request.write_text(json.dumps(body))
    with azure_errors("invoke the endpoint"):
        answer = ml.online_endpoints.invoke(endpoint_name=opts.endpoint or "digit-studio",
                                            deployment_name=opts.deployment,
                                            request_file=str(request))
    for file, reading in zip(files, json.loads(answer), strict=False):
        report(f"{file}: {reading.get('text', reading)}")


def list_endpoints(report: Report = print) -> None:
    """Online endpoints with their deployments and traffic, then batch endpoints."""
    ml = ml_client()
    with azure_errors("list endpoints"):
        for e in ml.online_endpoints.list():
            report(f"online {e.name} {e.scoring_uri} traffic={dict(e.traffic or {})}")
            for d in ml.online_deployments.list(endpoint_name=e.name):
                report(f"  {d.name}: {d.model} {d.instance_type} x{d.instance_count}")
        for b in ml.batch_endpoints.list():
            default = getattr(b.defaults, "deployment_name", None)
            report(f"batch  {b.name} default={default}")
