"""The session's runs of the workflow on a real SLURM cluster (tests/test_slurm.py checks them).

Three runs, started together in background threads when the session starts (conftest.py,
:func:`start`), as the full builds are: the analysis jobs of the default target for one device
(compared with the local full build), the device facts and the quickest sweep of the quick profile
on the GPU partition, and a workflow whose second job fails, then the same run after the fix.
Each run spends most of its time waiting: every job on the CI cluster is a Snakemake start inside
``sbatch`` and another inside ``srun``, and the plugin polls SLURM at growing intervals while no
job finishes. Started with the session, the runs use what the other tests leave idle, and the tests
only wait for what each run observed (:func:`result`).

Every run is bounded with ``timeout -s INT -k 30`` (Snakemake ignores SIGTERM while it waits on
SLURM); :func:`stop` interrupts those still running when the session ends.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any, Callable

import yaml

from conftest import ROOT, SNAKEMAKE, copy_project
from glue.inputs import load_resource
from greenflops.timing.device import resolve_target
from greenflops.timing.grids import sweep_points
from workflow_build import summary

REQUIRE_SLURM = os.environ.get("GREENFLOPS_REQUIRE_SLURM") == "1"
CI_PROFILE = "workflow/profiles/slurm-ci"
SLURM_RUN_TIMEOUT = 900  # seconds, per snakemake run on SLURM (a bound for hangs)
FAIL_WORKFLOW = ROOT / "tests" / "data" / "slurm_fail"

#: Rules whose one job reads every device's fit or every network's predictions. Through SLURM
#: they bring nearly the whole build with them (about 60 jobs and 7 min on the CI cluster, most
#: of it the plugin's status polling, against about 25 jobs without them); they run in the local
#: full build, and the SLURM run covers every other kind of analysis job.
GATHERING_RULES = frozenset({"summary", "alpha_cross_device", "network_predictions",
                             "networks_validation", "networks_energy"})


def slurm_problem() -> str | None:
    """Why no SLURM cluster is usable here, or None when one is."""
    if shutil.which("sinfo") is None or shutil.which("sacct") is None:
        return "sinfo/sacct not found"
    try:
        proc = subprocess.run(
            ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return "sinfo timed out"
    if proc.returncode != 0:
        return f"sinfo failed: {proc.stderr.strip()}"
    if not re.search(r"^(idle|mixed|allocated)", proc.stdout, re.M):
        return f"no usable node (sinfo: {proc.stdout.split()})"
    return None


_RUNNING: list[subprocess.Popen] = []


def start_on_slurm(workdir: Path, *args: str, profile: Path | str = CI_PROFILE) -> subprocess.Popen:
    """Start snakemake through SLURM with the CI profile, bounded (SIGINT, SIGKILL 30 s later)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    cmd = ["timeout", "-s", "INT", "-k", "30", str(SLURM_RUN_TIMEOUT), SNAKEMAKE]
    cmd += ["--workflow-profile", str(profile), *args]
    proc = subprocess.Popen(
        cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    _RUNNING.append(proc)
    return proc


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for a run started by start_on_slurm: (exit status, output)."""
    output, _ = proc.communicate(timeout=SLURM_RUN_TIMEOUT + 60)
    assert proc.returncode not in (124, 137), f"timed out:\n{output}"
    return proc.returncode, output


def run_on_slurm(workdir: Path, *args: str, profile: Path | str = CI_PROFILE) -> tuple[int, str]:
    """snakemake through SLURM with the CI profile: (exit status, output)."""
    return finish(start_on_slurm(workdir, *args, profile=profile))


def timing_rules() -> set[str]:
    """Rules that request the `timing_slot` guard: the timing jobs, which get a GPU on SLURM."""
    text = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    blocks = re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)+)", text, re.M)
    return {rule for rule, block in blocks if "timing_slot" in block}


def analysis_targets(outputs: dict[str, str]) -> list[str]:
    """One output of every analysis rule of the default target, for one device: each kind of
    analysis job runs once through SLURM, with as few α fits as the rules need (the smallest
    dataset's, and the device whose op costs are fitted).

    ``outputs``: output file -> rule of the default target. Timing rules are left out (what they
    write is a measurement, different in every run), so are :data:`GATHERING_RULES` and the
    report pages of what they write, and so is alpha_model_validation when the chosen device has
    no whole-network timings (it is an analysis job like the others).
    """
    timing = timing_rules()
    devices = sorted({out.split("/")[3] for out in outputs
                      if out.startswith("data/processed/alpha/")})
    device = min(devices, key=lambda d: sum(p.stat().st_size for p in
                                             (ROOT / "data/raw/timings" / d).glob("*.csv")))
    gathered = {Path(out).stem for out, rule in outputs.items() if rule in GATHERING_RULES}
    first: dict[str, str] = {}
    for path, rule in sorted(outputs.items()):
        # data/raw/ is committed (the networks' op tables): a clean clone does not make it again.
        if rule in timing or rule == "all" or path.startswith("data/raw/"):
            continue
        if rule in GATHERING_RULES or (rule == "report_table" and Path(path).stem in gathered):
            continue
        other_device = "/alpha/" in path and f"/alpha/{device}/" not in path
        if not other_device:
            first.setdefault(rule, path)
    # every rule of the chosen device, and a rule for each stage
    assert {"alpha_fit", "report_table", "energy", "table_inventory", "networks_flops",
            "trends2025_analysis"} <= set(first), first
    assert f"alpha_figures_{device.replace('-', '_')}" in first, first
    return sorted(first.values())


def _comparison_run(project: Path) -> dict[str, Any]:
    """One output of every analysis rule (:func:`analysis_targets`) made through SLURM."""
    outputs = {out: rule for out, (rule, _) in summary(project).items()}
    targets = analysis_targets(outputs)
    returncode, output = run_on_slurm(project, *targets)
    return {"project": project, "outputs": outputs, "targets": targets,
            "returncode": returncode, "output": output}


def _smallest_sweep(profile: str) -> str:
    """The sweep of a profile with the fewest FLOPs in all: the quickest timing job."""
    grids = load_resource(ROOT, "sweeps")["profiles"][profile]["grids"]
    return min(grids, key=lambda name: sum(p["flops"] for p in sweep_points(name, grids[name])))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder``, relative path -> bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _quick_sweep_run(project: Path) -> dict[str, Any]:
    """The device facts and the quickest sweep of the quick profile through SLURM."""
    # The CI cluster's GPU is model `fake` in partition `gpu`; there is no CUDA, so the sweeps
    # time the CPU of the node (sweeps.device cpu).
    config = [
        "--config",
        "sweep_profile=quick",
        "sweeps={device: cpu}",
        "cluster={gpu_partition: gpu, gpu_model: fake}",
    ]
    # The folder this machine's data goes to, as the workflow names it when it loads (the
    # machine's CPU: it need not be the one that measured the committed data).
    settings = yaml.safe_load((project / "config.yaml").read_text())["sweeps"]
    dataset = resolve_target({**settings, "device": "cpu"}, "quick").dataset
    timings = project / "data" / "raw" / "timings"
    shutil.rmtree(timings / dataset, ignore_errors=True)  # measure afresh (committed or not)
    others = tree(timings)
    # The device facts and the quickest sweep of the profile: two timing jobs, one at a time
    # (timing_slot), each re-parsing the workflow on its node.
    targets = [f"data/raw/timings/{dataset}/device.yaml",
               f"data/raw/timings/{dataset}/{_smallest_sweep('quick')}.csv"]
    returncode, output = run_on_slurm(project, *targets, *config)  # targets before --config
    return {"project": project, "dataset": dataset, "targets": targets, "others": others,
            "returncode": returncode, "output": output}


def _failing_job_run(work: Path) -> dict[str, Any]:
    """A workflow whose second job fails on SLURM, then the same run after the fix."""
    work.mkdir(parents=True)
    shutil.copy(FAIL_WORKFLOW / "Snakefile", work / "Snakefile")
    profile = ROOT / CI_PROFILE
    seen: dict[str, Any] = {"work": work}
    seen["first"] = run_on_slurm(work, profile=profile)
    seen["kept"] = list((work / ".snakemake" / "slurm_logs" / "rule_make_b").glob("*.log"))
    seen["a_then_b"] = ((work / "a.txt").exists(), (work / "b.txt").exists())
    seen["a_mtime"] = (work / "a.txt").stat().st_mtime_ns if seen["a_then_b"][0] else None
    if seen["first"][0] != 0:
        (work / "fixed").touch()
        seen["second"] = run_on_slurm(work, profile=profile)
    return seen


class _Run:
    """One SLURM run in a background thread; :meth:`result` waits for what it observed."""

    def __init__(self, run: Callable[[Path], dict[str, Any]], where: Path):
        self._seen: dict[str, Any] | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(run, where), name=run.__name__,
                         daemon=True).start()

    def _run(self, run: Callable[[Path], dict[str, Any]], where: Path) -> None:
        try:
            self._seen = run(where)
        except BaseException as err:  # raised again in the test that asks for the result
            self._error = err
        finally:
            self._done.set()

    def result(self) -> dict[str, Any]:
        if not self._done.wait(timeout=3 * SLURM_RUN_TIMEOUT):
            raise AssertionError("the SLURM run did not end")
        if self._error is not None:
            raise self._error
        assert self._seen is not None
        return self._seen


_RUNS: dict[str, _Run] = {}


def start(base: Path) -> None:
    """Start the three runs under ``base`` (once per session; nothing without a usable
    cluster: the tests then skip, or fail under GREENFLOPS_REQUIRE_SLURM=1)."""
    if _RUNS or slurm_problem() is not None:
        return
    _RUNS["comparison"] = _Run(_comparison_run, copy_project(base / "slurm-cluster" / "project"))
    _RUNS["quick_sweep"] = _Run(_quick_sweep_run, copy_project(base / "slurm-quick" / "project"))
    _RUNS["failing_job"] = _Run(_failing_job_run, base / "slurm-fail" / "fail")


def result(name: str, base: Path) -> dict[str, Any]:
    """What run ``name`` (comparison, quick_sweep, failing_job) observed; starts the runs if the
    session did not."""
    start(base)
    return _RUNS[name].result()


def stop() -> None:
    """Interrupt the runs still going (end of session)."""
    for proc in _RUNNING:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # to timeout, which passes it on to Snakemake
