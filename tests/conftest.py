"""Shared fixtures: the project root and a throw-away copy of it for end-to-end Snakemake runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
