"""What the scoring scripts share: the model they load, the request they accept, the answer.

`model/score.py` (online, under Azure ML's inference server or `make serve`) and
`model/batch_score.py` (batch endpoints, `python -m training.azure batch-local`)
are thin shims over this module, so both read exactly as the app does: every image
goes through `model.reader.read_digits` and every answer has the shape of
`model.predict.reading_record`.

Request: ``{"image": "<base64 PNG or JPEG>"}`` or ``{"images": ["...", ...]}``, with
an optional ``"single": true`` (read all ink as one digit). Answer per image:
``{"text", "sure", "digits": [{"digit", "confidence", "box", "sure", "unusual",
"bounds_doubted", "line"}]}``;
``"image"`` gives one object, ``"images"`` a list. Bad input raises
:class:`BadRequest` with one sentence, which the online script turns into HTTP 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.files import ModelFileError
from model.predict import reading_record
from model.predictor import Predictor, load_predictor
from model.reader import NoDigitError, ReadError, Reading, read_digits, use_one_core_per_reading
from model.settings import SETTINGS

MAX_REQUEST_BYTES = 5 * 1024 * 1024  # the whole request body
MAX_IMAGES = 64
MODEL_DIR_VAR = "AZUREML_MODEL_DIR"  # set by Azure ML to the registered model's folder
UNEXPECTED = "The image could not be read because of an unexpected error."
USAGE = 'send {"image": "<base64 PNG or JPEG>"} or {"images": [...]}'
# How deep to look for model.onnx under AZUREML_MODEL_DIR: Azure mounts a registered
# folder as <dir>/<folder name>/..., a local folder is the model folder itself.
_SEARCH_DEPTH = 3
# ONNX Runtime threads per call. A scoring worker reads one small image per call and
# runs beside other workers (and requests): a pool of 2 spinning threads per worker made
# every call wait for a core (score 2.4 -> 5.7 ms CPU, 4.7 -> 20 ms wall on a busy 2-core
# machine), while one thread reads a digit in 0.1 ms.
ORT_THREADS = 1


class BadRequest(ValueError):
    """The request cannot be answered; the message is one sentence for the caller."""


@dataclass(frozen=True)
class LoadedModel:
    """The predictor a scoring script uses and the short label its logs carry."""

    predictor: Predictor
    label: str


def _find_model_folder(root: Path) -> Path:
    """The folder under `root` (itself included) that holds a model file."""
    for depth in range(_SEARCH_DEPTH + 1):
        for name in (SETTINGS.onnx_file, SETTINGS.keras_file):
            found = sorted(root.glob("/".join(["*"] * depth + [name])))
            if found:
                return found[0].parent
    raise ModelFileError(f"No {SETTINGS.onnx_file} or {SETTINGS.keras_file} under {root}.")


def load_model() -> LoadedModel:
    """`$AZUREML_MODEL_DIR` when set (Azure, or `make serve MODEL=DIR`), else the champion.

    The champion comes from `model.champion` (the registry's alias, or the shipped
    model with a note); without that module the shipped model answers.
    """
    use_one_core_per_reading()
    folder = os.environ.get(MODEL_DIR_VAR)
    if folder:
        model_dir = _find_model_folder(Path(folder))
        predictor = load_predictor(model_dir, threads=ORT_THREADS)
        return LoadedModel(predictor, predictor.card.get("name") or model_dir.name)
    try:
        from model.champion import resolve_model
    except ImportError:
        return LoadedModel(load_predictor(None, threads=ORT_THREADS), "shipped")
    choice = resolve_model()
    return LoadedModel(load_predictor(choice.path, threads=ORT_THREADS), choice.label)


def prediction_logger() -> Callable[..., None] | None:
    """`model.predlog.log_reading` when the monitoring module is there, else None."""
    try:
        from model.predlog import log_reading
    except ImportError:
        return None
    return log_reading


def parse_request(body: bytes | str) -> tuple[list[bytes], bool, bool]:
    """The decoded images, `single`, and whether the caller sent a list ("images").

    Raises BadRequest for anything but a well-formed request of at most
    MAX_IMAGES base64 images in at most MAX_REQUEST_BYTES.
    """
    if len(body) > MAX_REQUEST_BYTES:
        raise BadRequest(f"The request is larger than {MAX_REQUEST_BYTES // 2**20} MB.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(f"The request body is not JSON; {USAGE}.") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"The request must be a JSON object; {USAGE}.")
    if "image" in payload and "images" in payload:
        raise BadRequest('Send either "image" or "images", not both.')
    many = "images" in payload
    images = payload.get("images") if many else [payload.get("image")]
    if not isinstance(images, list) or not images or images == [None]:
        raise BadRequest(f"The request has no image; {USAGE}.")
    if len(images) > MAX_IMAGES:
        raise BadRequest(f"The request has {len(images)} images; the limit is {MAX_IMAGES}.")
    single = payload.get("single", False)
    if not isinstance(single, bool):
        raise BadRequest('"single" must be true or false.')
    return [_decode_base64(item, i, many) for i, item in enumerate(images)], single, many


def _decode_base64(item: Any, index: int, many: bool) -> bytes:
    which = f"Image {index + 1}" if many else "The image"
    if not isinstance(item, str) or not item:
        raise BadRequest(f"{which} is not a base64 string.")
    if item.startswith("data:") and "," in item:  # a data URL from a browser
        item = item.split(",", 1)[1]
    try:
        return base64.b64decode(item, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(f"{which} is not valid base64.") from None


def answer(record: dict[str, Any]) -> dict[str, Any]:
    """A reading record without its file name: the per-image answer."""
    return {k: v for k, v in record.items() if k != "file"}


def read_image(data: bytes, model: LoadedModel, single: bool, *, source: str,
               name: str = "image") -> tuple[dict[str, Any], Reading | None]:
    """One image read into its record (with "error" when it can't be read) and its reading.

    A picture with no ink is a valid answer (empty text, not sure); the reading is
    logged to the prediction log with `source` when that module exists.
    """
    started = time.perf_counter()
    try:
        reading = read_digits(data, model.predictor, single=single)
    except NoDigitError as exc:
        return {"file": name, "text": "", "sure": False, "digits": [], "note": str(exc)}, None
    except ReadError as exc:
        return {"file": name, "error": str(exc)}, None
    except Exception:  # an exotic picture must not become a server error
        return {"file": name, "error": UNEXPECTED}, None
    latency_ms = (time.perf_counter() - started) * 1000.0
    log = prediction_logger()
    if log is not None:
        log(source, reading, latency_ms=latency_ms, model=model.label, image=data)
    return reading_record(name, reading), reading


def score(body: bytes | str, model: LoadedModel) -> dict[str, Any] | list[dict[str, Any]]:
    """The whole online answer; BadRequest when the request or any image is unreadable."""
    images, single, many = parse_request(body)
    results = []
    for i, data in enumerate(images):
        record, _ = read_image(data, model, single, source="service")
        if "error" in record:
            which = f"Image {i + 1}" if many else "The image"
            message = record["error"].rstrip(".")
            raise BadRequest(f"{which} cannot be read: {message[0].lower()}{message[1:]}.")
        results.append(answer(record))
    return results if many else results[0]
