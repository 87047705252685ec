"""The workflow on a SLURM cluster: resources per job kind, the profiles, and real SLURM runs.

The real-SLURM tests need a running cluster (CI: .ci/slurm/setup-slurm.sh starts a single node with
one fake GPU; .ci/run sets GREENFLOPS_REQUIRE_SLURM=1). Without one they are skipped, unless
GREENFLOPS_REQUIRE_SLURM=1, where they fail. Every snakemake run is bounded with
`timeout -s INT -k 30` (snakemake ignores SIGTERM while it waits on SLURM).
"""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, SNAKEMAKE, copy_project
from glue.cluster import cluster_resources
from glue.inputs import load_resource
from greenflops.timing.device import resolve_target
from greenflops.timing.grids import sweep_points
from workflow_build import build_outputs

REQUIRE_SLURM = os.environ.get("GREENFLOPS_REQUIRE_SLURM") == "1"
CI_PROFILE = "workflow/profiles/slurm-ci"
SLURM_RUN_TIMEOUT = 900  # seconds, per snakemake run on SLURM (a bound for hangs)
FAIL_WORKFLOW = ROOT / "tests" / "data" / "slurm_fail"
ANALYSIS_DIRS = ("data/processed", "figures")


# --- which resources a job asks for (no SLURM needed) -------------------------------------------


CONFIG_CLUSTER = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["cluster"]


def _site(**settings) -> dict:
    """The cluster section of config.yaml with ``settings`` changed."""
    return {**CONFIG_CLUSTER, **settings}


def test_timing_job_asks_for_one_gpu_of_the_model_on_the_gpu_partition():
    cluster = _site(gpu_model="a100", gpu_partition="gpu", partition="cpu", account="ai")
    assert cluster_resources(cluster, timing=True) == {
        "slurm_partition": "gpu",
        "slurm_account": "ai",
        "gpu": 1,
        "gpu_model": "a100",
        "runtime": "2h",
        "mem_mb": 8000,
    }


def test_analysis_job_asks_for_no_gpu():
    cluster = _site(gpu_model="a100", gpu_partition="gpu", partition="cpu")
    assert cluster_resources(cluster, timing=False) == {"slurm_partition": "cpu"}


def test_null_settings_leave_the_site_defaults():
    assert cluster_resources(_site(), timing=False) == {}
    # no model: any GPU (sbatch --gpus=1); no partition: the site's default partition
    assert cluster_resources(_site(timing_runtime=None, timing_mem_mb=None), timing=True) == {
        "gpu": 1
    }


def test_cpu_only_sweeps_request_no_gpu():
    resources = cluster_resources(_site(timing_gpus=0, gpu_model="a100"), timing=True)
    assert "gpu" not in resources and "gpu_model" not in resources


def _profile(name: str) -> dict:
    return yaml.safe_load((ROOT / "workflow" / "profiles" / name / "config.yaml").read_text())


def test_slurm_profiles_use_the_plugin_with_small_cpu_defaults():
    for name in ("slurm", "slurm-ci"):
        profile = _profile(name)
        assert profile["executor"] == "slurm"
        defaults = profile["default-resources"]
        assert not {"gpu", "gpu_model", "gres"} & set(defaults), "analysis jobs must not ask for GPUs"
        assert re.fullmatch(r"\d+[smhd]", str(defaults["runtime"])), "runtime needs units"
        assert defaults["mem_mb"] <= 2000  # CPUs: the rule's threads (1 for analysis jobs)
        assert profile["rerun-incomplete"] is True
    assert "slurm_partition" not in _profile("slurm")["default-resources"]  # site's choice
    assert 1 <= _profile("slurm-ci")["slurm-init-seconds-before-status-checks"] <= 5


def test_requirements_pin_the_slurm_plugin():
    assert re.search(
        r"^snakemake-executor-plugin-slurm==\d", (ROOT / "requirements.txt").read_text(), re.M
    )


def _rule_blocks() -> list[tuple[str, str]]:
    """(rule, its indented block) of every rule of workflow/rules/."""
    text = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    return re.findall(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)+)", text, re.M)


def timing_rules() -> set[str]:
    """Rules that request the `timing_slot` guard: the timing jobs, which get a GPU on SLURM."""
    return {rule for rule, block in _rule_blocks() if "timing_slot" in block}


def local_rules() -> set[str]:
    """Rules marked ``localrule: True``: never submitted, run by the Snakemake that submits."""
    marked = re.compile(r"^\s+localrule: True$", re.M)
    return {rule for rule, block in _rule_blocks() if marked.search(block)}


def test_local_rules_are_table_work_and_never_timing_or_figures():
    local = local_rules()
    assert {"report_table", "table_inventory", "figure_index"} <= local, local
    assert not local & timing_rules(), "a timing job must get its GPU node"
    heavy = {"alpha_fit", "trends_figures_cv", "trends2025_figures", "op_costs",
             "network_predictions"}
    assert not local & heavy, local & heavy


def test_cluster_resources_are_applied_after_every_stage():
    """cluster.smk walks the rules defined before it: it must be the Snakefile's last include."""
    includes = re.findall(r"^include:\s*\"([^\"]+)\"", (ROOT / "Snakefile").read_text(), re.M)
    assert includes[-1] == "workflow/rules/cluster.smk", (
        "keep `include: \"workflow/rules/cluster.smk\"` the last include of the Snakefile "
        f"(found {includes})"
    )
    assert timing_rules(), "no rule requests timing_slot: which jobs need a GPU?"


# --- real SLURM ---------------------------------------------------------------------------------


def _slurm_problem() -> str | None:
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


@pytest.fixture(scope="module")
def slurm() -> None:
    problem = _slurm_problem()
    if problem:
        if REQUIRE_SLURM:
            pytest.fail(f"GREENFLOPS_REQUIRE_SLURM=1 but no SLURM cluster: {problem}")
        pytest.skip(f"no SLURM cluster ({problem}); CI starts one with .ci/slurm/setup-slurm.sh")


def start_on_slurm(workdir: Path, *args: str, profile: Path | str = CI_PROFILE) -> subprocess.Popen:
    """Start snakemake through SLURM with the CI profile, bounded (SIGINT, SIGKILL 30 s later)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONHASHSEED="0")
    cmd = ["timeout", "-s", "INT", "-k", "30", str(SLURM_RUN_TIMEOUT), SNAKEMAKE]
    cmd += ["--workflow-profile", str(profile), *args]
    return subprocess.Popen(
        cmd, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )


def finish(proc: subprocess.Popen) -> tuple[int, str]:
    """Wait for a run started by start_on_slurm: (exit status, output)."""
    output, _ = proc.communicate(timeout=SLURM_RUN_TIMEOUT + 60)
    assert proc.returncode not in (124, 137), f"timed out:\n{output}"
    return proc.returncode, output


def run_on_slurm(workdir: Path, *args: str, profile: Path | str = CI_PROFILE) -> tuple[int, str]:
    """snakemake through SLURM with the CI profile: (exit status, output)."""
    return finish(start_on_slurm(workdir, *args, profile=profile))


class Scenario:
    """A SLURM scenario run in a background thread; :meth:`result` waits for what it observed.

    The SLURM runs spend most of their time waiting on the plugin's status polling (its interval
    grows by 10 s while no job finishes), so the small scenarios run beside the big one."""

    def __init__(self, run, *args):
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._future = self._pool.submit(run, *args)
        self._pool.shutdown(wait=False)

    def result(self) -> dict:
        return self._future.result(timeout=3 * SLURM_RUN_TIMEOUT)


@pytest.fixture(scope="module")
def scenarios(slurm, built, tmp_path_factory) -> dict[str, Scenario]:
    """The quick-sweep and failing-job scenarios, started together beside the big comparison.
    (They do not read the full build: asking for it orders their tests with the comparison,
    after the fast tests, conftest.py, so that the three SLURM runs overlap.)"""
    return {
        "quick_sweep": Scenario(_quick_sweep_scenario, copy_project(
            tmp_path_factory.mktemp("slurm-quick") / "project")),
        "failing_job": Scenario(_failing_job_scenario, tmp_path_factory.mktemp("slurm-fail")),
    }


def submitted_jobs(output: str) -> dict[str, str]:
    """SLURM job id -> rule, from Snakemake's 'submitted with SLURM jobid' lines."""
    pattern = r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/"
    return {jobid: rule for jobid, rule in re.findall(pattern, output)}


def sacct_jobs(jobids: list[str]) -> dict[str, tuple[str, str, str]]:
    """SLURM job id -> (state, partition, allocated TRES) from the accounting database."""
    fields = "JobID,State,Partition,AllocTRES%200"
    proc = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-j", ",".join(jobids), "-o", fields],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    rows = [line.split("|") for line in proc.stdout.splitlines() if line.strip()]
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


#: Rules whose one job reads every device's fit or every network's predictions. Through SLURM
#: they bring nearly the whole build with them (about 60 jobs and 7 min on the CI cluster, most
#: of it the plugin's status polling, against 26 without them, 16 of which are `localrule` jobs
#: that run beside Snakemake); they run in the local full build, and the SLURM run covers every
#: other kind of analysis job.
GATHERING_RULES = frozenset({"summary", "alpha_cross_device", "network_predictions",
                             "networks_validation", "networks_energy"})


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


def made_files(workdir: Path) -> dict[str, Path]:
    """Files under ANALYSIS_DIRS, relative path -> path."""
    return {str(p.relative_to(workdir)): p for sub in ANALYSIS_DIRS
            for p in (workdir / sub).rglob("*") if p.is_file()}


@pytest.mark.slow
def test_workflow_on_slurm_gives_the_same_outputs_as_a_local_run(slurm, scenarios, built,
                                                                 tmp_path):
    outputs = build_outputs()
    targets = analysis_targets(outputs)
    cluster = copy_project(tmp_path / "cluster")
    returncode, output = run_on_slurm(cluster, *targets)
    assert returncode == 0, output
    jobs = submitted_jobs(output)
    # every rule through SLURM but the local ones, which run beside Snakemake (and are compared
    # below like the rest)
    local = local_rules()
    submitted = {outputs[t] for t in targets} - local
    assert submitted and submitted <= set(jobs.values()), f"not through SLURM:\n{output}"
    assert not local & set(jobs.values()), f"a local rule went through SLURM:\n{output}"
    assert local & {outputs[t] for t in targets}, "no local rule among the targets"
    accounting = sacct_jobs(list(jobs))
    timing = timing_rules()
    for jobid, rule in jobs.items():
        state, partition, tres = accounting[jobid]
        assert state == "COMPLETED" and partition == "debug", (rule, jobid, state, partition)
        assert rule not in timing, f"timing job {rule} ran for analysis targets"
        assert "gres/gpu" not in tres, f"analysis job {rule} asked for a GPU: {tres}"
        assert "mem=1000M" in tres, f"analysis job {rule} asks for more than the default: {tres}"

    # Same bytes as the local default run (the session's full build) for every file made.
    assert all((cluster / target).is_file() for target in targets)
    local = made_files(built)
    made = made_files(cluster)
    assert set(made) <= set(local), f"only in the SLURM run: {sorted(set(made) - set(local))}"
    differ = [rel for rel, path in made.items() if not filecmp.cmp(path, local[rel], shallow=False)]
    assert differ == [], f"SLURM and local runs differ: {differ}"


def _smallest_sweep(profile: str) -> str:
    """The sweep of a profile with the fewest FLOPs in all: the quickest timing job."""
    grids = load_resource(ROOT, "sweeps")["profiles"][profile]["grids"]
    return min(grids, key=lambda name: sum(p["flops"] for p in sweep_points(name, grids[name])))


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _quick_sweep_scenario(project: Path) -> dict:
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
    others = _tree(timings)
    # The device facts and the quickest sweep of the profile: two timing jobs, one at a time
    # (timing_slot), each re-parsing the workflow on its node.
    targets = [f"data/raw/timings/{dataset}/device.yaml",
               f"data/raw/timings/{dataset}/{_smallest_sweep('quick')}.csv"]
    returncode, output = run_on_slurm(project, *targets, *config)  # targets before --config
    return {"project": project, "dataset": dataset, "targets": targets, "others": others,
            "returncode": returncode, "output": output}


@pytest.mark.slow
def test_quick_sweep_on_slurm_takes_one_gpu_per_timing_job(scenarios):
    seen = scenarios["quick_sweep"].result()
    returncode, output, dataset = seen["returncode"], seen["output"], seen["dataset"]
    assert returncode == 0, output
    jobs = submitted_jobs(output)
    timing = timing_rules()
    assert sorted(jobs.values()) == ["device_facts", "sweep"], output
    accounting = sacct_jobs(list(jobs))
    for jobid, rule in jobs.items():
        state, partition, tres = accounting[jobid]
        assert rule in timing and state == "COMPLETED", (rule, jobid, state)
        # exactly one GPU, of the configured model, on the GPU partition
        assert partition == "gpu" and "gres/gpu=1" in tres, (rule, partition, tres)
        assert "gres/gpu:fake=1" in tres, (rule, tres)

    # the data lands under its own device_id, and device.yaml says which node measured it;
    # nothing else under data/raw/timings changed
    timings = seen["project"] / "data" / "raw" / "timings"
    folder = timings / dataset
    assert sorted(p.name for p in folder.glob("*.csv")) == [Path(seen["targets"][1]).name]
    device = yaml.safe_load((folder / "device.yaml").read_text(encoding="utf-8"))
    assert device["device_id"] == dataset and device["device_type"] == "cpu", device
    assert device["host"] == socket.gethostname(), device
    assert device["slurm_job_id"] and device["slurm_node"], device
    assert {k: v for k, v in _tree(timings).items() if not k.startswith(f"{dataset}/")} == (
        seen["others"])


def _failing_job_scenario(tmp: Path) -> dict:
    """A workflow whose second job fails on SLURM, then the same run after the fix."""
    work = tmp / "fail"
    work.mkdir()
    shutil.copy(FAIL_WORKFLOW / "Snakefile", work / "Snakefile")
    profile = ROOT / CI_PROFILE
    seen: dict = {"work": work}
    seen["first"] = run_on_slurm(work, profile=profile)
    seen["kept"] = list((work / ".snakemake" / "slurm_logs" / "rule_make_b").glob("*.log"))
    seen["a_then_b"] = ((work / "a.txt").exists(), (work / "b.txt").exists())
    seen["a_mtime"] = (work / "a.txt").stat().st_mtime_ns if seen["a_then_b"][0] else None
    if seen["first"][0] != 0:
        (work / "fixed").touch()
        seen["second"] = run_on_slurm(work, profile=profile)
    return seen


@pytest.mark.slow
def test_failing_slurm_job_fails_the_run_with_its_log_and_rerun_resumes(scenarios):
    seen = scenarios["failing_job"].result()
    work = seen["work"]
    returncode, output = seen["first"]
    assert returncode != 0, output
    assert "SLURM status is: 'FAILED'" in output, output
    # the failed job's log is printed, and the SLURM log is kept
    assert "Logfile logs/make_b.log:" in output and "make_b fails on purpose" in output, output
    assert seen["kept"], "the failed job's SLURM log was not kept"
    assert seen["a_then_b"] == (True, False)

    returncode, output = seen["second"]
    assert returncode == 0, output
    assert set(submitted_jobs(output).values()) == {"make_b"}, output  # resumed: only make_b ran
    assert (work / "a.txt").stat().st_mtime_ns == seen["a_mtime"]
    assert (work / "b.txt").read_text() == "a\n"
