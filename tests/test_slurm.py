"""The workflow on a SLURM cluster: resources per job kind, the profiles, and real SLURM runs.

The real-SLURM tests need a running cluster (CI: .ci/slurm/setup-slurm.sh starts a single node with
one fake GPU; .ci/run sets GREENFLOPS_REQUIRE_SLURM=1). Without one they are skipped, unless
GREENFLOPS_REQUIRE_SLURM=1, where they fail. The runs they check start with the session, in the
background (tests/slurm_runs.py); the tests read what each run observed.
"""

from __future__ import annotations

import filecmp
import re
import socket
import subprocess
from pathlib import Path

import pytest
import yaml

import slurm_runs
from conftest import ROOT
from glue.cluster import cluster_resources
from slurm_runs import REQUIRE_SLURM, slurm_problem, timing_rules, tree

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


def test_cluster_resources_are_applied_after_every_stage():
    """cluster.smk walks the rules defined before it: it must be the Snakefile's last include."""
    includes = re.findall(r"^include:\s*\"([^\"]+)\"", (ROOT / "Snakefile").read_text(), re.M)
    assert includes[-1] == "workflow/rules/cluster.smk", (
        "keep `include: \"workflow/rules/cluster.smk\"` the last include of the Snakefile "
        f"(found {includes})"
    )
    assert timing_rules(), "no rule requests timing_slot: which jobs need a GPU?"


# --- real SLURM (the runs: tests/slurm_runs.py) --------------------------------------------------


@pytest.fixture(scope="module")
def slurm_runs_of_session(tmp_path_factory) -> Path:
    """The base folder of the session's SLURM runs (started with the session by conftest.py, or
    now); skips (fails under GREENFLOPS_REQUIRE_SLURM=1) without a usable cluster."""
    problem = slurm_problem()
    if problem:
        if REQUIRE_SLURM:
            pytest.fail(f"GREENFLOPS_REQUIRE_SLURM=1 but no SLURM cluster: {problem}")
        pytest.skip(f"no SLURM cluster ({problem}); CI starts one with .ci/slurm/setup-slurm.sh")
    base = tmp_path_factory.getbasetemp()
    slurm_runs.start(base)
    return base


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


def made_files(workdir: Path) -> dict[str, Path]:
    """Files under ANALYSIS_DIRS, relative path -> path."""
    return {str(p.relative_to(workdir)): p for sub in ANALYSIS_DIRS
            for p in (workdir / sub).rglob("*") if p.is_file()}


@pytest.mark.slow
def test_workflow_on_slurm_gives_the_same_outputs_as_a_local_run(slurm_runs_of_session, built):
    seen = slurm_runs.result("comparison", slurm_runs_of_session)
    returncode, output, outputs = seen["returncode"], seen["output"], seen["outputs"]
    targets, cluster = seen["targets"], seen["project"]
    assert returncode == 0, output
    jobs = submitted_jobs(output)
    assert {outputs[t] for t in targets} <= set(jobs.values()), f"not through SLURM:\n{output}"
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


@pytest.mark.slow
def test_quick_sweep_on_slurm_takes_one_gpu_per_timing_job(slurm_runs_of_session):
    seen = slurm_runs.result("quick_sweep", slurm_runs_of_session)
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
    assert {k: v for k, v in tree(timings).items() if not k.startswith(f"{dataset}/")} == (
        seen["others"])


@pytest.mark.slow
def test_failing_slurm_job_fails_the_run_with_its_log_and_rerun_resumes(slurm_runs_of_session):
    seen = slurm_runs.result("failing_job", slurm_runs_of_session)
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
