# Cluster resources: gives every rule defined above its SLURM resources from config.yaml's
# `cluster:` section (workflow/rules/glue/cluster.py decides them). Included LAST in the Snakefile,
# after every stage, because it walks the rules already defined.
#   - timing jobs (rules that request the local `timing_slot` guard: the sweeps) ask for
#     `timing_gpus` GPU(s), of `gpu_model` if set, on `gpu_partition`, for `timing_runtime`;
#   - every other job stays CPU-only, on `partition`, with the profile's small defaults.
#   - rules marked `localrule: True` (seconds of work on small tables: report pages,
#     inventories, the trends paper's tables) are never submitted: they run on the node
#     that runs Snakemake, where a queue wait would cost more than the job.
# Values set in config.yaml win over the SLURM profile; null ones leave the profile's defaults and
# then the site's. Locally these resources are inert: only the SLURM executor reads them.
from glue.cluster import cluster_resources

for _rule in workflow.rules:
    _timing = "timing_slot" in _rule.resources
    for _name, _value in cluster_resources(config["cluster"], timing=_timing).items():
        _rule.resources[_name] = _value
