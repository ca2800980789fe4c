"""Online scoring script for Azure ML's inference server (`azmlinfsrv`), here and in Azure.

Azure ML (a ManagedOnlineDeployment) and `make serve` load this file the same way:
the server calls :func:`init` once per worker, then :func:`run` for each
``POST /score``. ``run`` is marked ``@rawhttp`` so it receives the HTTP request
itself: the size limit is checked before the body is read, and bad input gets
HTTP 400 with ``{"error": "<one sentence>"}`` instead of the server's generic 500.

    {"image": "<base64 PNG or JPEG>", "single": false}   -> {"text", "sure", "digits"}
    {"images": ["...", ...]}                              -> [{"text", "sure", "digits"}, ...]

The request and answer formats are documented in `model/service.py`.
"""

from __future__ import annotations

import runpy
from pathlib import Path

# Azure mounts model/ under a name of its own: make `import model` mean this folder.
runpy.run_path(str(Path(__file__).resolve().with_name("mount.py")))

from azureml_inference_server_http.api.aml_request import AMLRequest, rawhttp  # noqa: E402
from azureml_inference_server_http.api.aml_response import AMLResponse  # noqa: E402

from model.service import (  # noqa: E402
    MAX_REQUEST_BYTES,
    BadRequest,
    LoadedModel,
    load_model,
    score,
)

CHUNK = 1 << 16
DRAIN_LIMIT = 64 * 1024 * 1024  # beyond this the connection is simply closed

_model: LoadedModel | None = None


def init() -> None:
    """Load the model once per worker: AZUREML_MODEL_DIR in Azure, else the champion."""
    global _model
    _model = load_model()
    print(f"digit-studio scoring: model {_model.label} ({_model.predictor.model_dir.name}, "
          f"{_model.predictor.backend})", flush=True)


@rawhttp
def run(request: AMLRequest) -> AMLResponse:
    """Answer one request; 400 with a one-sentence JSON error for bad input."""
    if _model is None:
        return AMLResponse({"error": "The model is not loaded yet."}, 503, json_str=True)
    if request.method != "POST":
        return _bad('Send a POST with a JSON body like {"image": "<base64 PNG>"}.')
    if (request.content_length or 0) > MAX_REQUEST_BYTES:  # refuse without keeping it
        _drain(request)
        return _bad(f"The request is larger than {MAX_REQUEST_BYTES // 2**20} MB.")
    try:
        result = score(request.get_data(cache=False), _model)
    except BadRequest as exc:
        return _bad(str(exc))
    return AMLResponse(result, 200, json_str=True)


def _drain(request: AMLRequest) -> None:
    """Read and drop an oversized body in chunks, so the client gets the 400 (a server
    that answers mid-upload breaks the client's pipe); past the drain limit, stop."""
    left = DRAIN_LIMIT
    while left > 0:
        chunk = request.stream.read(min(CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)


def _bad(message: str) -> AMLResponse:
    return AMLResponse({"error": message}, 400, json_str=True)
