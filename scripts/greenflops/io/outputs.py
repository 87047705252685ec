"""Writing outputs so that reruns give identical bytes and a failure leaves no half-written file.

* :func:`atomic_write_text` / :func:`write_csv` write to a temporary file beside the target and
  rename it into place (a rename is atomic on POSIX file systems).
* :func:`save_figure` writes PDF and PNG without timestamps or version strings in their metadata.
* :func:`log_to_file` sends a script's logging and stderr to the rule's ``log:`` file.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_text", "log_to_file", "save_figure", "write_csv", "yaml_number"]

#: Float format of every processed CSV: enough digits to round-trip what matters, stable text.
CSV_FLOAT_FORMAT = "%.10g"


@contextlib.contextmanager
def _atomic_path(target: str | Path, suffix: str = "") -> Iterator[Path]:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix or target.suffix,
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` (UTF-8, LF line endings) to ``path`` atomically."""
    with _atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")


def yaml_number(value: float) -> float | None:
    """``value`` to 6 significant digits for a YAML document, or None when not finite (stable
    text across platforms: the last digits of a fit are noise)."""
    value = float(value)
    return None if not math.isfinite(value) else float(f"{value:.6g}")


def write_csv(frame: Any, path: str | Path, float_format: str = CSV_FLOAT_FORMAT) -> None:
    """Write a DataFrame as CSV (no index, LF, fixed float format), atomically."""
    with _atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format=float_format, lineterminator="\n")


def save_figure(fig: Any, *paths: str | Path, dpi: int = 150) -> None:
    """Save a matplotlib figure to each path (format from the suffix), byte-identically across runs.

    PDF: no CreationDate/Producer; PNG: no Software tag; SVG: fixed hash salt and no date.
    """
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "greenflops"
    for path in paths:
        path = Path(path)
        fmt = path.suffix.lstrip(".").lower()
        metadata: dict[str, Any]
        if fmt == "pdf":
            metadata = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}
        elif fmt == "png":
            metadata = {"Software": None}
        elif fmt == "svg":
            metadata = {"Date": None, "Creator": None}
        else:
            metadata = {}
        with _atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)


@contextlib.contextmanager
def log_to_file(log_path: str | Path | None, level: int = logging.INFO) -> Iterator[logging.Logger]:
    """Route ``logging`` and ``sys.stderr`` to the rule's log file for the duration of a script.

    Exceptions are logged with their traceback before they propagate, so the log says why a job
    failed (Snakemake prints the log path on failure).
    """
    logger = logging.getLogger("greenflops")
    if log_path is None:
        logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(message)s")
        yield logger
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as handle:
        handler = logging.StreamHandler(handle)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(level)
        old_stderr = sys.stderr
        sys.stderr = handle
        try:
            yield logger
        except BaseException:
            logger.exception("failed")
            raise
        finally:
            sys.stderr = old_stderr
            root.removeHandler(handler)
            handler.flush()
