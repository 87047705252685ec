"""Shared fixtures: the project root, a throw-away copy of it for end-to-end Snakemake runs, and
the session's full builds (``built``, ``second_build``: tests/workflow_build.py), started in the
background at the start of a session that needs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Validations that passed are recorded for this session only (greenflops.io.validated): every
# Snakemake start of the session, on SLURM too, reuses them; nothing is read from earlier runs.
os.environ["GREENFLOPS_CACHE_DIR"] = tempfile.mkdtemp(prefix="greenflops-validated-")
VENV_BIN = Path(sys.executable).parent
SNAKEMAKE = str(VENV_BIN / "snakemake")

# Copied into a project copy: the workflow and its committed inputs, nothing derived.
_COPY_IGNORE = shutil.ignore_patterns(
    ".venv", "venv", ".snakemake", "logs", "__pycache__", ".pytest_cache", ".git", "report.html"
)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def copy_project(dest: Path) -> Path:
    """Copy the workflow with its committed inputs (no .venv, .snakemake, logs or derived outputs)."""
    shutil.copytree(ROOT, dest, ignore=_COPY_IGNORE)
    # Imported datasets are git-ignored outputs of config imports, never inputs of a clean clone.
    shutil.rmtree(dest / "data" / "imported", ignore_errors=True)
    for derived in ("data/processed", "figures"):
        target = dest / derived
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
    return dest


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh copy of the project in a temporary directory."""
    return copy_project(tmp_path / "project")


def run_snakemake(
    workdir: Path, *args: str, timeout: float = 600, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``workdir`` (the venv's executable), capturing output."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    proc = subprocess.run(
        [SNAKEMAKE, *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


# --- the session's full builds (tests/workflow_build.py) ----------------------------------------


def _needs(item: pytest.Item) -> int:
    """0: no full build, 1: the session's full build, 2: the second one too."""
    names = getattr(item, "fixturenames", ())
    return 2 if "second_build" in names else 1 if "built" in names else 0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need no full build run first, those that need the second one last: the builds
    run in the background meanwhile (otherwise in file order)."""
    items.sort(key=_needs)


@pytest.fixture(scope="session", autouse=True)
def _background_builds(request: pytest.FixtureRequest, tmp_path_factory):
    """Start the full builds the selected tests need, in the background; stop them at the end."""
    import workflow_build

    needs = {_needs(item) for item in request.session.items}
    if needs - {0}:
        workflow_build.start_builds(tmp_path_factory.getbasetemp(), second=2 in needs)
    yield
    workflow_build.stop_builds()


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """The session's full build of the default target (shared: restore what you change)."""
    import workflow_build

    return workflow_build.full_build(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def second_build(tmp_path_factory) -> Path:
    """A second, independent full build of the same sources."""
    import workflow_build

    return workflow_build.second_build(tmp_path_factory.getbasetemp())
