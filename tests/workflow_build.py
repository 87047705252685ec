"""The session's full builds of the workflow, shared by every test that needs a built project.

Running the default target end to end takes minutes on 2 cores, so the tests that need a built
project (the HTML report, reruns, the stages' outputs, the SLURM comparison) share one, the
``built`` fixture (conftest.py): :func:`full_build` copies the project and runs ``snakemake
--cores 2`` once per session; :func:`build_jobs` says which jobs that run executed and
:func:`build_outputs` what each rule made. The determinism test needs a second, independent build
of the same sources (``second_build`` fixture, :func:`second_build`).

When a session will need them, conftest.py starts both builds at its start, in the background
and at low priority (:func:`start_builds`): the first build runs beside the fast tests, the second
beside the slow ones (most of which keep one core busy at a time), and a test that needs a build
waits for it. Tests that change the built project restore it (bytes and modification times) before
they end; the others copy what they change.
"""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import subprocess
import threading
from pathlib import Path

from conftest import SNAKEMAKE, copy_project, run_snakemake

#: Priority of the background builds (os.nice increment): they use what the tests leave idle.
BACKGROUND_NICE = 10
BUILD_TIMEOUT = 1800  # seconds, per build


class _Build:
    """One full build of a project copy, run in a background thread."""

    def __init__(self, project: Path):
        self.project = project
        self.output = ""
        self.returncode: int | None = None
        self.proc: subprocess.Popen | None = None
        self.done = threading.Event()
        self.stopped = False

    def run(self, nice: int) -> None:
        try:
            if self.stopped:
                return
            env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
            self.proc = subprocess.Popen(
                [SNAKEMAKE, "--cores", "2"], cwd=self.project, env=env, text=True,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                preexec_fn=(lambda: os.nice(nice)) if nice else None,
            )
            try:
                self.output, _ = self.proc.communicate(timeout=BUILD_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.output = self.proc.communicate()[0] + f"\n(timed out after {BUILD_TIMEOUT} s)"
            self.returncode = self.proc.returncode
        finally:
            self.done.set()

    def result(self) -> Path:
        """Wait for the build; its project, or AssertionError with Snakemake's output."""
        self.done.wait()
        if self.returncode != 0:
            raise AssertionError(
                f"full build of {self.project} failed ({self.returncode}):\n{self.output}")
        return self.project

    def stop(self) -> None:
        self.stopped = True
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # Snakemake stops its jobs and cleans up
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_BUILDS: dict[str, _Build] = {}
_CACHE: dict = {}


def start_builds(base: Path, second: bool) -> None:
    """Start the full build (and, with ``second``, then the second one) in the background."""
    if _BUILDS:
        return
    _BUILDS["first"] = _Build(copy_project(base / "built-project"))
    if second:
        _BUILDS["second"] = _Build(copy_project(base / "second-project"))
    builds = list(_BUILDS.values())

    def run_all() -> None:
        for build in builds:
            build.run(BACKGROUND_NICE)

    threading.Thread(target=run_all, name="full-builds", daemon=True).start()


def stop_builds() -> None:
    """Stop the background builds still running (end of session)."""
    for build in _BUILDS.values():
        build.stop()


def _build(name: str, base: Path) -> _Build:
    if name not in _BUILDS:  # not started in the background: run it now
        directory = "built-project" if name == "first" else "second-project"
        _BUILDS[name] = _Build(copy_project(base / directory))
        _BUILDS[name].run(nice=0)
    return _BUILDS[name]


def full_build(base: Path) -> Path:
    """A project copy under ``base`` with the default target built (once per session)."""
    return _build("first", base).result()


def second_build(base: Path) -> Path:
    """A second project copy of the same sources, built independently (determinism)."""
    return _build("second", base).result()


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


def _first() -> _Build:
    """The session's full build, finished (the ``built`` fixture starts it)."""
    assert "first" in _BUILDS, "use the `built` fixture (conftest.py) to get the full build"
    _BUILDS["first"].result()
    return _BUILDS["first"]


def build_jobs() -> dict[str, int]:
    """Rule -> jobs that the session's full build ran."""
    jobs = job_stats(_first().output)
    assert jobs, f"no job stats in the build's output:\n{_first().output[-3000:]}"
    return jobs


def summary(project: Path) -> dict[str, tuple[str, str]]:
    """Output file -> (rule, plan) for every output of the default target (`snakemake
    --summary`: nothing runs); plan is "no update" for an output that is up to date."""
    proc = run_snakemake(project, "--summary", "--cores", "1", check=True)
    text = proc.stdout[proc.stdout.index("output_file"):]
    return {row["output_file"]: (row["rule"], row["plan"])
            for row in csv.DictReader(io.StringIO(text), delimiter="\t")}


def build_summary() -> dict[str, tuple[str, str]]:
    """:func:`summary` of the session's full build, taken once, when first asked for."""
    if "summary" not in _CACHE:
        _CACHE["summary"] = summary(_first().project)
    return _CACHE["summary"]


def build_outputs() -> dict[str, str]:
    """Output file -> rule, for every output of the session's full build."""
    return {out: rule for out, (rule, _) in build_summary().items()}


def derived_files(project: Path) -> dict[str, bytes]:
    """Every file under data/processed/ and figures/ (hidden ones too), path -> bytes."""
    out = {}
    for top in ("data/processed", "figures"):
        for path in sorted((project / top).rglob("*")):
            if path.is_file():
                out[str(path.relative_to(project))] = path.read_bytes()
    return out
