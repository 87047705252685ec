"""Reading YAML that people write (config.yaml, device.yaml): plain data only.

An alias (``*name``) lets a few lines stand for an exponentially large document (a "billion
laughs" file: nine aliases nine levels deep make 9^9 nodes), which a later traversal expands
without bound; a tag (``!!python/object``, ``!custom``) asks for a type that data files never
need. :func:`load_plain_yaml` refuses both from the parser's events, before any document is
built, so such a file fails in milliseconds with the line it is on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["SAFE_LOADER", "PlainYAMLError", "load_plain_yaml", "read_yaml"]

#: libyaml's loader where PyYAML has it (faster), else PyYAML's own; both are safe loaders.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: str | Path) -> Any:
    """A YAML document the workflow wrote itself (params.yaml, op costs, device facts), read with
    the safe loader (libyaml's: an 80 kB params.yaml takes about 1 s in pure Python)."""
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)


class PlainYAMLError(ValueError):
    """A YAML file is not plain data (an alias, anchor or tag), or is not YAML at all."""


def load_plain_yaml(path: str | Path) -> Any:
    """The data of a YAML file that has no alias, anchor or tag (``yaml.safe_load`` after a
    check of the parser's events). Raises :class:`PlainYAMLError` naming the file and line."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise PlainYAMLError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise PlainYAMLError(f"{path}: is not UTF-8 text; save it as UTF-8") from None
    try:
        for event in yaml.parse(text, Loader=SAFE_LOADER):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent):
                raise PlainYAMLError(
                    f"{path}, line {line}: YAML alias *{event.anchor} refused: write the values "
                    "out (aliases can make a small file expand without bound)")
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                raise PlainYAMLError(
                    f"{path}, line {line}: YAML anchor &{anchor} refused: write the values out")
            tag = getattr(event, "tag", None)
            if tag is not None and not (isinstance(event, yaml.ScalarEvent) and event.implicit[0]):
                raise PlainYAMLError(
                    f"{path}, line {line}: YAML tag {tag} refused: data files hold plain "
                    "numbers, text, lists and mappings")
        return yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise PlainYAMLError(f"{path}{where}: not valid YAML: {problem}") from None
