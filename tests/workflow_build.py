"""One full build of the workflow per test session, shared by the report and reliability tests.

Running the default target end to end takes minutes on 2 cores, so the tests that need a built
project (the HTML report, determinism, reruns) share one: :func:`full_build` copies the project
and runs ``snakemake --cores 2`` once per session; callers copy the result if they change it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import copy_project, run_snakemake

_BUILT: dict[str, Path] = {}


def full_build(base: Path) -> Path:
    """A project copy under ``base`` with the default target built (cached for the session)."""
    if "project" not in _BUILT:
        project = copy_project(base / "built-project")
        run_snakemake(project, "--cores", "2", timeout=1800, check=True)
        _BUILT["project"] = project
    return _BUILT["project"]


def copy_sources(built: Path, dest: Path) -> Path:
    """A clean copy (no outputs, no Snakemake metadata) of the sources ``built`` was built from,
    so that a second run uses exactly the same inputs even if the checkout changes meanwhile."""
    ignore = shutil.ignore_patterns(".snakemake", "logs", "report.html", "report_screenshot.png")
    shutil.copytree(built, dest, ignore=ignore)
    for derived in ("data/processed", "figures"):
        shutil.rmtree(dest / derived, ignore_errors=True)
        (dest / derived).mkdir(parents=True)
    return dest


def derived_files(project: Path) -> dict[str, bytes]:
    """Every file under data/processed/ and figures/ (hidden ones too), path -> bytes."""
    out = {}
    for top in ("data/processed", "figures"):
        for path in sorted((project / top).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(project))] = path.read_bytes()
    return out
