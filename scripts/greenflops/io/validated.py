"""Remember which table files passed validation, so the same bytes are not validated twice.

Every Snakemake start validates every curated table and timing file before any job (a bad cell
stops the run with its file, line and column), and jobs read their inputs through the same
loader: cell-by-cell JSON Schema validation is the largest part of the workflow's own load,
repeated by every start and every job on a cluster. A file that passed is recorded by a key over
everything the verdict depends on: the file's bytes, the schema, the source of the validating
module, the jsonschema version (:data:`JSONSCHEMA_VERSION`) and the date (``x-max-date: today``). Any change gives a new key, so a
recorded key can only stand for a file that passed; a failure is never recorded.

The record is an empty file per key under ``$GREENFLOPS_CACHE_DIR`` (default
``${XDG_CACHE_HOME:-~/.cache}/greenflops/validated``); ``GREENFLOPS_CACHE_DIR=off`` turns it
off. A directory that cannot be written only means validating again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.metadata
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["JSONSCHEMA_VERSION", "cache_dir", "mark_validated", "validation_key", "was_validated"]

#: The validator's version, part of every key (its verdicts may change with it).
JSONSCHEMA_VERSION = importlib.metadata.version("jsonschema")


def cache_dir() -> Path | None:
    """Where passed validations are recorded, or None when recording is off."""
    setting = os.environ.get("GREENFLOPS_CACHE_DIR")
    if setting is not None:
        return None if setting.strip().lower() in ("", "off", "0", "no") else Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "greenflops" / "validated"


def validation_key(data: bytes, schema: dict[str, Any], validator_source: bytes,
                   validator_version: str, today: dt.date | None = None) -> str:
    """SHA-256 over a file's bytes and everything else its verdict depends on."""
    digest = hashlib.sha256()
    for part in (data, json.dumps(schema, sort_keys=True, default=str).encode(),
                 validator_source, validator_version.encode(),
                 (today or dt.date.today()).isoformat().encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def was_validated(key: str) -> bool:
    """True if a file with this key passed validation before."""
    folder = cache_dir()
    return folder is not None and (folder / key).is_file()


def mark_validated(key: str) -> None:
    """Record that a file with this key passed (silently nothing if the folder is not
    writable)."""
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).touch()
    except OSError:
        pass
