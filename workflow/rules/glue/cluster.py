"""SLURM resources of greenflops jobs, from the ``cluster:`` section of config.yaml.

On a cluster (``snakemake --workflow-profile workflow/profiles/slurm``) the SLURM executor plugin
turns a job's resources into ``sbatch`` options: ``slurm_partition`` -> ``-p``, ``slurm_account``
-> ``-A``, ``gpu`` (with ``gpu_model``) -> ``--gpus=[<model>:]<n>``, ``runtime`` -> ``-t``.
This module (Snakemake glue, used by ``cluster.smk``) decides those resources for the two
kinds of job greenflops has:

* **timing jobs** (the sweeps: rules that request the local ``timing_slot`` guard) need the device
  they time: ``timing_gpus`` GPUs (1 by default, optionally of ``gpu_model``) on ``gpu_partition``,
  with ``timing_mem_mb`` of host memory, for up to ``timing_runtime``;
* **analysis jobs** (everything else) are small, CPU-only, on ``partition``.

A key that is null (the default) adds nothing: the job then gets the SLURM profile's default
resources, and after that the site's defaults (default partition, the account SLURM guesses).
Locally these resources are inert: only the SLURM executor reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["cluster_resources"]


def cluster_resources(cluster: Mapping[str, Any], *, timing: bool) -> dict[str, int | str]:
    """SLURM resources of one job, from config.yaml's ``cluster:`` section.

    Args:
        cluster: the ``cluster:`` section, every key present (config.yaml gives them all and
            workflow/schemas/config.schema.yaml requires them).
        timing: True for a timing job (a sweep rule, one that requests ``timing_slot``).

    Returns:
        Snakemake resources to set on the job's rule; keys whose configured value is null are
        left out, so that the profile's defaults and then the site's apply.

    >>> site = {"account": None, "partition": "cpu", "gpu_partition": "gpu", "gpu_model": "a100",
    ...         "timing_gpus": 1, "timing_runtime": "2h", "timing_mem_mb": 8000}
    >>> cluster_resources(site, timing=True)
    {'slurm_partition': 'gpu', 'gpu': 1, 'gpu_model': 'a100', 'runtime': '2h', 'mem_mb': 8000}
    >>> cluster_resources(site, timing=False)
    {'slurm_partition': 'cpu'}
    """
    resources: dict[str, int | str] = {}
    partition = cluster["gpu_partition"] if timing else cluster["partition"]
    if partition:
        resources["slurm_partition"] = str(partition)
    if cluster["account"]:
        resources["slurm_account"] = str(cluster["account"])
    if timing:
        gpus = int(cluster["timing_gpus"])
        if gpus > 0:
            resources["gpu"] = gpus
            if cluster["gpu_model"]:
                resources["gpu_model"] = str(cluster["gpu_model"])
        if cluster["timing_runtime"]:
            resources["runtime"] = str(cluster["timing_runtime"])
        if cluster["timing_mem_mb"]:
            resources["mem_mb"] = int(cluster["timing_mem_mb"])
    return resources
