"""Read digits from image files on the command line.

    python -m model.predict [--json] [--single] [--log] [--model DIR] FILE...

Every file is read with the same reader the app uses (`model.reader`). With
``--json`` each file gives exactly one JSON object on its own line::

    {"file": "a.png", "text": "4071", "sure": true,
     "digits": [{"digit": 4, "confidence": 0.998, "box": [x, y, w, h], "sure": true,
                 "unusual": false, "bounds_doubted": false, "line": 0}, ...]}
    {"file": "b.txt", "error": "The file is not a supported image (...)."}

A document of pages, a PDF or a multi-page TIFF, gives one object per page (at most
`model.documents.MAX_PAGES`), its file named "scan.pdf#p2" and its number in "page"; a
PDF that cannot be opened (damaged, password-protected, no pages) gives one object
with its "error".

"text" joins the digits of a line with nothing and the lines with one space. A digit
is "unusual" when it is not sure although the network is confident: its shape is
unlike the digits of that class the model learned from (`DigitReading.unusual`). It has
"bounds_doubted" when it is not sure where the digit ends: two digits may have been read
as one, or it may be part of a neighbour the picture's edge cut.
Without ``--json`` each file gives one readable line. A bad file never stops the
others; the exit status is 1 if any file failed, else 0. The model is loaded once,
through ONNX Runtime (TensorFlow is never imported), so start-up stays fast. Without
``--model`` it is the registry's champion (`model.champion`), else the shipped model,
which a note on stderr says.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from model.champion import resolve_model
from model.documents import MAX_PAGES, document_bytes, page_count, read_pages
from model.files import ModelFileError
from model.predictor import load_predictor
from model.predlog import log_reading
from model.reader import ProbabilityModel, ReadError, Reading, read_digits
from model.reader.imaging import FORMAT_NAMES

UNEXPECTED = "The file could not be read because of an unexpected error."
CONFIDENCE_DIGITS = 4


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m model.predict",
        description=f"Read handwritten digits from image files ({FORMAT_NAMES}) and "
                    "documents of pages: PDF scans, multi-page TIFFs.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="image files to read")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per file, one per line")
    parser.add_argument("--single", action="store_true",
                        help="read each image's ink as one digit (no segmentation)")
    parser.add_argument("--log", action="store_true",
                        help="record each reading in the prediction log (source 'cli')")
    parser.add_argument("--model", metavar="DIR", default=None,
                        help="model folder (default: the registry's champion, else shipped)")
    return parser


def reading_record(file: str, reading: Reading) -> dict[str, Any]:
    """The JSON object for a file that was read."""
    return {
        "file": file,
        "text": reading.text,
        "sure": reading.sure,
        "digits": [{"digit": d.digit, "confidence": round(d.confidence, CONFIDENCE_DIGITS),
                    "box": list(d.box), "sure": d.sure, "unusual": d.unusual,
                    "bounds_doubted": d.bounds_doubted, "line": d.line}
                   for d in reading.digits],
    }


def read_file(file: str, predictor: ProbabilityModel, single: bool,
              log_as: str | None = None) -> dict[str, Any]:
    """Read one file into its record; never raises. `log_as` (a model label) logs the reading."""
    try:
        started = time.perf_counter()
        reading = read_digits(file, predictor, single=single)
        if log_as is not None:
            log_reading("cli", reading, latency_ms=(time.perf_counter() - started) * 1000,
                        model=log_as, image=Path(file).read_bytes())
        return reading_record(file, reading)
    except ReadError as exc:
        return {"file": file, "error": str(exc)}
    except Exception:  # a bug or an exotic failure must not stop the batch
        return {"file": file, "error": UNEXPECTED}


def read_records(file: str, predictor: ProbabilityModel, single: bool,
                 log_as: str | None = None) -> list[dict[str, Any]]:
    """The records of one file: one per page of a document, else one; never raises."""
    data = document_bytes(file)
    if data is None:
        return [read_file(file, predictor, single, log_as)]
    try:
        pages = read_pages(data, predictor, single=single)
        if (count := page_count(data)) > MAX_PAGES:
            print(f"note: {file} has {count} pages; the first {MAX_PAGES} were read.",
                  file=sys.stderr, flush=True)
    except ReadError as exc:
        return [{"file": file, "error": str(exc)}]
    except Exception:  # a bug or an exotic failure must not stop the batch
        return [{"file": file, "error": UNEXPECTED}]
    records = []
    for page in pages:
        name = f"{file}#p{page.page}"
        if page.reading is None:
            records.append({"file": name, "page": page.page, "error": page.error})
            continue
        if log_as is not None:
            log_reading("cli", page.reading, latency_ms=0.0, model=log_as)
        records.append({**reading_record(name, page.reading), "page": page.page})
    return records


def _readable(record: dict[str, Any]) -> str:
    if "error" in record:
        return f"{record['file']}: error: {record['error']}"
    unsure = [d for d in record["digits"] if not d["sure"]]
    note = ""
    if unsure:
        which = ", ".join(_why_not_sure(d) for d in unsure)
        note = f"  (not sure: {which})"
    return f"{record['file']}: {record['text']}{note}"


def _why_not_sure(digit: dict[str, Any]) -> str:
    """A digit that is not sure and why, in a few words: a confident one's percentage
    would only mislead."""
    if digit["bounds_doubted"]:
        return f"{digit['digit']} (it may be two digits, or part of one)"
    if digit["unusual"]:
        return f"{digit['digit']} (unlike the {digit['digit']}s it learned from)"
    return f"{digit['digit']} ({digit['confidence']:.0%})"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Our own size limit refuses bombs with a clear message; Pillow's warning is noise.
    warnings.simplefilter("ignore", Image.DecompressionBombWarning)
    model = args.model
    if model is None:
        choice = resolve_model()
        model = choice.path
        if choice.note:
            print(f"note: {choice.note}", file=sys.stderr, flush=True)
    try:
        predictor = load_predictor(model)
    except (ModelFileError, OSError, ValueError) as exc:
        records = [{"file": f, "error": f"The model could not be loaded: {exc}"}
                   for f in args.files]
    else:
        # The log names a registered model as the app does ("digit-cnn v3"), else the folder.
        label = (choice.label if args.model is None else predictor.name) if args.log else None
        records = (record for f in args.files
                   for record in read_records(f, predictor, args.single, label))
    failed = False
    for record in records:
        failed |= "error" in record
        print(json.dumps(record) if args.json else _readable(record), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
