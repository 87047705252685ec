"""The architectures greenflops builds, and how a user names any ``nn.Module``.

Known architectures come from ``workflow/resources/networks.yaml`` (:func:`load_registry`): id →
torchvision builder name, input side, the build argument that takes the side (ViT's
``image_size``), and the network's row in the trends paper's Table 2 where it has one. An id
that the registry does not list is a torchvision name at side 224 (:func:`architecture`). Models
are built with ``weights=None`` and seeded random weights in eval mode (:func:`build`): nothing
is downloaded.

:func:`resolve_target` turns what a user types (``torchvision:resnet50``, ``resnet50`` or
``package.module:callable``) into a builder, with a clear error for an unknown name.
"""

from __future__ import annotations

import difflib
import importlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "REGISTRY_PATH",
    "Architecture",
    "UnknownArchitecture",
    "architecture",
    "build",
    "input_shape",
    "load_registry",
    "parse_shape",
    "resolve_target",
    "shape_text",
]

#: The registry's file (the papers' specifications live under workflow/resources/).
REGISTRY_PATH = (Path(__file__).resolve().parents[3] / "workflow" / "resources"
                 / "networks.yaml")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class UnknownArchitecture(ValueError):
    """A network name that neither the registry nor torchvision knows."""


@dataclass(frozen=True)
class Architecture:
    """One buildable network: its id, torchvision name, input side and Table 2 row."""

    id: str
    torchvision: str
    side: int = 224
    side_argument: str | None = None
    paper: Mapping[str, Any] | None = None

    def kwargs(self, side: int) -> dict[str, Any]:
        """Build arguments for an input of ``side`` × ``side`` (the side argument, if any;
        convolutional networks take any side as they are)."""
        return {self.side_argument: int(side)} if self.side_argument else {}


def load_registry(path: str | Path = REGISTRY_PATH) -> dict[str, Any]:
    """``workflow/resources/networks.yaml`` as a dict (validated by the workflow when it loads)."""
    import yaml

    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def architecture(name: str, registry: Mapping[str, Any] | None = None) -> Architecture:
    """The :class:`Architecture` of network ``name``: the registry's entry, or the torchvision
    model of that name at side 224."""
    if not _ID.match(str(name)):
        raise UnknownArchitecture(f"network name {name!r} must be lower case letters, digits "
                                  "and underscores")
    registry = load_registry() if registry is None else registry
    entry = registry.get("architectures", {}).get(name)
    if entry is None:
        return Architecture(id=name, torchvision=name)
    return Architecture(id=name, torchvision=entry["torchvision"], side=int(entry["side"]),
                        side_argument=entry.get("side_argument"), paper=entry.get("paper"))


def _torchvision_builder(arch: Architecture, side: int) -> Callable[[], Any]:
    try:
        import torchvision
    except ImportError:
        raise UnknownArchitecture("torchvision is not installed: pip install -r "
                                  "requirements.txt") from None
    known = torchvision.models.list_models(module=torchvision.models)
    if arch.torchvision not in known:
        close = difflib.get_close_matches(arch.torchvision, known, n=3)
        raise UnknownArchitecture(
            f"unknown architecture {arch.torchvision!r}: not a torchvision classification model"
            + (f"; did you mean {', '.join(close)}?" if close else
               f" (torchvision {torchvision.__version__} has {len(known)}, e.g. resnet50)"))
    kwargs = arch.kwargs(side)
    return lambda: torchvision.models.get_model(arch.torchvision, weights=None, **kwargs)


def resolve_target(spec: str, side: int | None = None,
                   registry: Mapping[str, Any] | None = None) -> Callable[[], Any]:
    """A builder of the module ``spec`` names: ``torchvision:<name>`` or a bare ``<name>`` (the
    registry's id or a torchvision model), or ``package.module:callable`` (called with no
    arguments). ``side`` is the input side (ViT is built for it). Raises
    :class:`UnknownArchitecture` with the nearest names."""
    source, sep, name = str(spec).partition(":")
    if not sep:
        source, name = "torchvision", source
    if not name:
        raise UnknownArchitecture(f"expected torchvision:NAME or module:callable, got {spec!r}")
    if source == "torchvision":
        registry = load_registry() if registry is None else registry
        arch = architecture(name, registry)
        return _torchvision_builder(arch, arch.side if side is None else side)
    try:
        module = importlib.import_module(source)
    except ImportError as exc:
        raise UnknownArchitecture(f"cannot import {source!r} for {spec!r}: {exc}") from None
    target = getattr(module, name, None)
    if not callable(target):
        raise UnknownArchitecture(f"{source!r} has no callable {name!r}")
    return target


def build(name: str, side: int | None = None, registry: Mapping[str, Any] | None = None,
          seed: int = 0) -> Any:
    """Network ``name`` (registry id or torchvision name; or ``module:callable``) in eval mode,
    with seeded random weights (``weights=None``), for an input of side ``side`` (default its
    own)."""
    import torch

    builder = resolve_target(name if ":" in name else f"torchvision:{name}", side, registry)
    torch.manual_seed(seed)
    return builder().eval()


def input_shape(batch: int, side: int, channels: int = 3) -> tuple[int, int, int, int]:
    """``(batch, channels, side, side)``."""
    return int(batch), int(channels), int(side), int(side)


def shape_text(shape: Sequence[int]) -> str:
    """``(1, 3, 224, 224)`` → ``"1x3x224x224"`` (file names and the ``input_shape`` column)."""
    return "x".join(str(int(v)) for v in shape)


def parse_shape(text: str, sep: str | None = None) -> tuple[int, ...]:
    """``"1x3x224x224"`` or ``"1,3,224,224"`` → ``(1, 3, 224, 224)``; a shape of positive
    integers, at least two of them. Raises ``ValueError`` saying what is wrong."""
    raw = str(text).strip()
    sep = sep or ("," if "," in raw else "x")
    parts = [p.strip() for p in raw.split(sep)]
    if len(parts) < 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(f"input shape {text!r} is not a list of positive integers such as "
                         "1,3,224,224 (batch, channels, height, width)")
    return tuple(int(p) for p in parts)
