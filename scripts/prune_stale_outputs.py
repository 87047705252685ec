"""Delete the per-device outputs of devices whose timing folder is gone (rule
prune_stale_outputs; the list is workflow/rules/glue/alpha_targets.stale_device_outputs)."""

import shutil

from greenflops.io.outputs import log_to_file

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    for folder in snakemake.params.stale:
        shutil.rmtree(folder)
        log.info("deleted %s", folder)
    log.info("%d stale folder(s) deleted", len(snakemake.params.stale))
