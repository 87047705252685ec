"""Library code as rule inputs, so that editing it reruns exactly the jobs that run it.

Snakemake reruns a job when its script changes, not when a module the script imports changes.
:func:`library_files` reads a script's imports (statically, with :mod:`ast`) and follows them
through the library ``scripts/greenflops/`` to every module a run of it can load, package
``__init__`` files included; rules list those files as inputs (``library=code("<script>")``).
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

__all__ = ["library_files"]

LIBRARY = "greenflops"


def _module_file(scripts: Path, module: str) -> Path | None:
    """The file of a library module (``greenflops.alpha.plots``), or None if there is none."""
    base = scripts.joinpath(*module.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


#: An import statement naming the library, from its first line to its end: a parenthesised
#: name list may span lines, so may backslash continuations.
_LIBRARY_IMPORT = re.compile(
    rf"^[ \t]*(?:from[ \t]+{LIBRARY}\b[^\n(\\]*(?:\([^)]*\)|(?:\\\n[^\n\\]*)*)"
    rf"|import[ \t]+[^\n\\]*\b{LIBRARY}\b[^\n\\]*(?:\\\n[^\n\\]*)*)",
    re.M)


def _import_statements(source: str) -> str:
    """The statements of ``source`` that import the library, one per line: what
    :func:`_imported_modules` parses instead of the whole file (parsing every library module
    took about a second of each Snakemake start). The whole source when a match does not parse
    on its own (a line of prose that looks like an import, say): never a missed import."""
    kept = []
    for match in _LIBRARY_IMPORT.finditer(source):
        statement = match.group(0).strip()
        try:
            ast.parse(statement)
        except SyntaxError:
            return source
        kept.append(statement)
    return "\n".join(kept)


@functools.cache  # each module is read once per workflow load, however many scripts import it
def _imported_modules(path: Path) -> frozenset[str]:
    """Library modules that ``path`` imports anywhere (top level or inside functions)."""
    tree = ast.parse(_import_statements(path.read_text(encoding="utf-8")), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == LIBRARY)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != LIBRARY:
                continue
            found.add(node.module)
            # `from greenflops.trends import figures` imports a submodule
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return frozenset(found)


@functools.cache
def library_files(script: str | Path, scripts: str | Path = "scripts") -> tuple[str, ...]:
    """Every library file a run of ``script`` may load, sorted, as paths like ``scripts``."""
    scripts = Path(scripts)
    seen: dict[str, Path] = {}
    todo = [Path(script)]
    while todo:
        for module in sorted(_imported_modules(todo.pop())):
            parts = module.split(".")
            # importing a.b.c runs a/__init__, a/b/__init__ and a/b/c
            for depth in range(1, len(parts) + 1):
                name = ".".join(parts[:depth])
                if name in seen:
                    continue
                file = _module_file(scripts, name)
                if file is None:
                    continue  # a name imported from a module, not a module
                seen[name] = file
                todo.append(file)
    return tuple(sorted(str(f) for f in seen.values()))
