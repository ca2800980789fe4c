"""Digests of the source a cache of pictures depends on: the reader's and the style
synthesiser's. A cache keyed by them (the training mix, `training.feedback_set`) is
rebuilt when either changes, even where a few pictures converted again would still
match.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@functools.cache
def reader_fingerprint() -> str:
    """A digest of the reader's source (`reader_sources`), for caches of pictures as the
    reader shows them (the mix, `training.feedback_set.usps_views`). A reader change
    that moves only a few pictures (3 of the first 500 boxed USPS digits, once) passes
    the mix's canary; it must not reuse the cache."""
    digest = hashlib.sha256()
    for name, source in sorted(reader_sources().items()):
        digest.update(name.encode() + b"\0" + source)
    return digest.hexdigest()[:16]


@functools.cache
def styles_fingerprint() -> str:
    """A digest of the style synthesiser's source (`training/styles.py`, `skeletons.py`):
    a change to how digits are drawn must not reuse the cache, even where the canary's
    first few drawings come out the same."""
    digest = hashlib.sha256()
    for name in ("styles.py", "skeletons.py"):
        digest.update((ROOT / "training" / name).read_bytes())
    return digest.hexdigest()[:16]


def reader_sources() -> dict[str, bytes]:
    """The source of the reader (`model/reader/__init__.py`) and of every `model` module it
    imports, transitively."""
    sources: dict[str, bytes] = {}
    todo = ["model.reader"]
    while todo:
        name = todo.pop()
        if name in sources:
            continue
        path = ROOT / name.replace(".", "/")  # a package's source is its __init__.py
        source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
        sources[name] = source.read_bytes()
        todo += [node.module for node in ast.walk(ast.parse(sources[name]))
                 if isinstance(node, ast.ImportFrom) and node.module
                 and node.module.startswith("model.")]
    return sources
