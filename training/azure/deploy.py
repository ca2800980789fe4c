"""Endpoint and deployment specs: a managed online endpoint (key auth) and a batch endpoint.

Both deployments run the project's own scoring scripts from the `model/` folder
(`score.py`, `batch_score.py`) in the small serving environment built from
`requirements-serve.txt`; the registered model is mounted at AZUREML_MODEL_DIR.
"""

from __future__ import annotations

from pathlib import Path

from model.settings import PACKAGE_DIR
from training.azure.specs import COMPUTE, MODEL_NAME, Spec, env_ref, relative

ENDPOINT = "digit-studio"
BATCH_ENDPOINT = "digit-studio-batch"
DEPLOYMENT = "blue"
BATCH_DEPLOYMENT = "onnx"
INSTANCE_TYPE = "Standard_DS2_v2"  # 2 vCPUs, 7 GB: ONNX Runtime reads a digit in < 1 ms
INSTANCE_COUNT = 1
REQUEST_TIMEOUT_MS = 10_000
MINI_BATCH = 10
MAX_RETRIES = 3
RETRY_TIMEOUT_S = 300
OUTPUT_FILE = "predictions.csv"


def model_ref(version: str | int) -> str:
    return f"azureml:{MODEL_NAME}:{version}"


def online_endpoint(name: str = ENDPOINT) -> Spec:
    return Spec("online-endpoint.yml", "managedOnlineEndpoint", {
        "name": name, "auth_mode": "key",
        "description": "Digit Studio: read handwritten digits from a base64 PNG or JPEG."})


def online_deployment(base: Path, env: Spec, version: str | int, *, name: str = DEPLOYMENT,
                      endpoint: str = ENDPOINT, instance_type: str = INSTANCE_TYPE,
                      instance_count: int = INSTANCE_COUNT) -> Spec:
    """A ManagedOnlineDeployment of model `version` behind model/score.py."""
    return Spec(f"online-deployment-{name}.yml", "managedOnlineDeployment", {
        "name": name, "endpoint_name": endpoint, "model": model_ref(version),
        "code_configuration": {"code": relative(PACKAGE_DIR, base), "scoring_script": "score.py"},
        "environment": env_ref(env),
        "instance_type": instance_type, "instance_count": instance_count,
        "request_settings": {"request_timeout_ms": REQUEST_TIMEOUT_MS,
                             "max_concurrent_requests_per_instance": 4},
        "liveness_probe": {"initial_delay": 10, "period": 10},
        "readiness_probe": {"initial_delay": 10, "period": 10},
    })


def batch_endpoint(name: str = BATCH_ENDPOINT) -> Spec:
    return Spec("batch-endpoint.yml", "batchEndpoint", {
        "name": name, "description": "Digit Studio: one CSV row per image file."})


def batch_deployment(base: Path, env: Spec, version: str | int, *,
                     name: str = BATCH_DEPLOYMENT, endpoint: str = BATCH_ENDPOINT,
                     compute_name: str = COMPUTE, mini_batch: int = MINI_BATCH,
                     retries: int = MAX_RETRIES, instance_count: int = INSTANCE_COUNT) -> Spec:
    """A ModelBatchDeployment of model `version` behind model/batch_score.py.

    Each mini-batch's rows are appended to one output CSV (`append_row`); a file
    that fails to read is a row with its error, so no mini-batch is lost to one bad file.
    """
    return Spec(f"batch-deployment-{name}.yml", "modelBatchDeployment", {
        "name": name, "endpoint_name": endpoint, "type": "model", "model": model_ref(version),
        "code_configuration": {"code": relative(PACKAGE_DIR, base),
                               "scoring_script": "batch_score.py"},
        "environment": env_ref(env),
        "compute": f"azureml:{compute_name}",
        "resources": {"instance_count": instance_count},
        "settings": {
            "max_concurrency_per_instance": 2, "mini_batch_size": mini_batch,
            "output_action": "append_row", "output_file_name": OUTPUT_FILE,
            "retry_settings": {"max_retries": retries, "timeout": RETRY_TIMEOUT_S},
            "error_threshold": -1, "logging_level": "info",
        },
    })
