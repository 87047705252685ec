"""One full build of the workflow per test session, shared by every test that needs a built project.

Running the default target end to end takes minutes on 2 cores, so the tests that need a built
project (the HTML report, determinism, reruns, the stages' outputs, the SLURM comparison) share
one: :func:`full_build` copies the project and runs ``snakemake --cores 2`` once per session;
:func:`build_jobs` says which jobs that run executed and :func:`build_outputs` what each rule
made. Tests that change the built project restore it (bytes and modification times) before they
end; the others copy what they change.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

from conftest import copy_project, run_snakemake

_BUILT: dict[str, Path] = {}
_OUTPUT: dict = {}


def full_build(base: Path) -> Path:
    """A project copy under ``base`` with the default target built (cached for the session)."""
    if "project" not in _BUILT:
        project = copy_project(base / "built-project")
        proc = run_snakemake(project, "--cores", "2", timeout=1800, check=True)
        _BUILT["project"] = project
        _OUTPUT["project"] = proc.stdout + proc.stderr
    return _BUILT["project"]


def job_stats(output: str) -> dict[str, int]:
    """Rule -> number of jobs, from the first 'Job stats:' table of a Snakemake run's output."""
    jobs: dict[str, int] = {}
    if "Job stats:" not in output:
        return jobs
    for line in output.split("Job stats:", 1)[1].splitlines():
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match and match.group(1) == "total":
            break
        if match:
            jobs[match.group(1)] = int(match.group(2))
    return jobs


def build_jobs(base: Path) -> dict[str, int]:
    """Rule -> jobs that the session's full build ran (the build runs first if needed)."""
    full_build(base)
    jobs = job_stats(_OUTPUT["project"])
    assert jobs, f"no job stats in the build's output:\n{_OUTPUT['project'][-3000:]}"
    return jobs


def summary(project: Path) -> dict[str, tuple[str, str]]:
    """Output file -> (rule, plan) for every output of the default target (`snakemake
    --summary`: nothing runs); plan is "no update" for an output that is up to date."""
    proc = run_snakemake(project, "--summary", "--cores", "1", check=True)
    text = proc.stdout[proc.stdout.index("output_file"):]
    return {row["output_file"]: (row["rule"], row["plan"])
            for row in csv.DictReader(io.StringIO(text), delimiter="\t")}


def build_summary(base: Path) -> dict[str, tuple[str, str]]:
    """:func:`summary` of the session's full build, taken once, when first asked for."""
    project = full_build(base)
    if "summary" not in _OUTPUT:
        _OUTPUT["summary"] = summary(project)
    return _OUTPUT["summary"]


def build_outputs(base: Path) -> dict[str, str]:
    """Output file -> rule, for every output of the session's full build."""
    return {out: rule for out, (rule, _) in build_summary(base).items()}


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
