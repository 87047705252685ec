"""Load a pickle of plain numeric numpy arrays without running anything it names.

A pickle is a program: ``pickle.load`` imports and calls whatever globals the file names. The
public alpha-FLOPs dataset (``data.pickle``) needs only numpy's ``_frombuffer`` (under its
numpy-1 or numpy-2 module name) and ``numpy.dtype``; :class:`RestrictedUnpickler` resolves
exactly those (:data:`ALLOWED_GLOBALS`) without importing by name and refuses every other global,
and every persistent id, with :class:`UnsafePickleError` naming the file.

Allowing the two names is not enough on its own: a pickle can BUILD a ``numpy.dtype`` with
edited state (an object dtype whose "has objects" flag is cleared), which numpy's ``frombuffer``
would accept, turning file bytes into object pointers. ``_frombuffer`` is therefore replaced by
a checked version that builds only plain numeric arrays (kinds f, i, u, b; no fields, no
subarray), rebuilds the dtype from its type string (dropping any edited state), checks the
buffer size against the shape and copies the data.
"""

from __future__ import annotations

import io
import math
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from greenflops.imports.rows import ImportDataError

__all__ = ["ALLOWED_GLOBALS", "RestrictedUnpickler", "UnsafePickleError", "load_pickle"]

#: The only globals a pickle may name: (module, name). ``numpy.core`` became ``numpy._core`` in
#: numpy 2; both spellings of the same function are allowed, nothing else.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset({
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "dtype"),
})

#: dtype kinds an array may have (plain numbers: no objects, no records, no strings).
_NUMERIC_KINDS = frozenset("fiub")


class UnsafePickleError(ImportDataError):
    """The pickle names a global (or a persistent id) that is not allowed; nothing was run."""


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS`: ``numpy.dtype`` to itself and
    ``_frombuffer`` to :meth:`_checked_frombuffer`."""

    def __init__(self, file: io.BufferedIOBase, path: str | Path):
        super().__init__(file)
        self._path = str(path)

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - pickle API
        if (module, name) not in ALLOWED_GLOBALS:
            allowed = ", ".join(sorted(f"{m}.{n}" for m, n in ALLOWED_GLOBALS))
            raise UnsafePickleError(
                self._path, f"refused to load global {module}.{name} (only {allowed} are "
                            "allowed); the file was not loaded")
        return np.dtype if name == "dtype" else self._checked_frombuffer

    def _checked_frombuffer(self, buf: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
        """``numpy._core.numeric._frombuffer`` restricted to plain numeric arrays."""
        if (not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS
                or dtype.fields is not None or dtype.subdtype is not None or dtype.hasobject):
            raise UnsafePickleError(self._path, f"refused an array of dtype {dtype!r} (only "
                                                "plain numeric arrays are allowed)")
        if not isinstance(buf, (bytes, bytearray, pickle.PickleBuffer)):
            raise UnsafePickleError(self._path, "refused an array buffer of type "
                                                f"{type(buf).__name__}")
        if (not (isinstance(shape, tuple) and all(isinstance(n, int) and n >= 0 for n in shape))
                or order not in ("C", "F")):
            raise UnsafePickleError(self._path, f"refused an array of shape {shape!r}, order "
                                                f"{order!r}")
        clean = np.dtype(dtype.str)  # rebuilt from e.g. "<f8": no edited state survives
        data = bytes(buf.raw() if isinstance(buf, pickle.PickleBuffer) else buf)
        if len(data) != clean.itemsize * math.prod(shape):
            raise UnsafePickleError(self._path, "refused an array whose buffer size does not "
                                                "match its shape")
        return np.frombuffer(data, dtype=clean).reshape(shape, order=order).copy()

    def persistent_load(self, pid: Any) -> Any:  # noqa: D102 - pickle API
        raise UnsafePickleError(self._path, "refused a persistent id; the file was not loaded")


def load_pickle(path: str | Path) -> Any:
    """The object in the pickle at ``path``, loaded with :class:`RestrictedUnpickler`.

    Raises :class:`UnsafePickleError` for a global or persistent id that is not allowed and
    :class:`ImportDataError` (naming the file) for a missing, truncated or malformed file.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportDataError(path, "file not found")
    try:
        with open(path, "rb") as handle:
            return RestrictedUnpickler(handle, path).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # truncated or malformed pickle, bad numpy buffer, ...
        raise ImportDataError(path, f"cannot unpickle: {type(exc).__name__}: {exc}") from None
