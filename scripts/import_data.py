"""Import one public timing dataset (config ``imports``) into data/imported/<device_id>/ (rules
import_data_<name>): all its timing folders and summaries, or nothing."""

import json
import shutil
from pathlib import Path

from greenflops.imports.formats import run_import
from greenflops.imports.rows import ImportDataError
from greenflops.imports.writing import write_datasets
from greenflops.io.outputs import log_to_file

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def _remove_empty_folders(plan, out):
    """Snakemake makes the output folders before the job: leave none behind on failure."""
    for folder in [Path(out) / device_id for device_id in plan] + [Path(out)]:
        if folder.is_dir() and not any(folder.iterdir()):
            shutil.rmtree(folder)


with log_to_file(snakemake.log[0]) as log:
    p = snakemake.params
    plan = json.loads(p.plan)
    files = [Path(f) for f in snakemake.input.sources]
    out = Path(snakemake.output[0]).parents[1]  # data/imported (<out>/<device_id>/device.yaml)
    try:
        result = run_import(p.format, files)
        if json.dumps(result.plan(), sort_keys=True) != json.dumps(plan, sort_keys=True):
            raise ImportDataError(files[0], "the source changed since the workflow was planned "
                                            f"(planned {sorted(plan)}, found "
                                            f"{sorted(result.plan())}); run snakemake again")
        source = {"format": p.format, "files": [str(f) for f in files]}
        write_datasets(result, out, name=p.name, timings_schema=snakemake.input.schemas[0],
                       device_schema=snakemake.input.schemas[1], source=source)
    except ImportDataError:
        _remove_empty_folders(plan, out)
        raise
    for dataset in result.datasets:
        reasons = result.log.by_reason(dataset.device_id)
        dropped = {k: v for k, v in reasons.items() if k != "imported"}
        log.info("%s/%s: %d rows imported in %d sweeps; dropped %s", out, dataset.device_id,
                 dataset.rows, len(dataset.sweeps), dropped or "none")
        labels = dataset.summary.get("application_labels")
        if labels and labels["blank_rows"]:
            log.info("  blank application cells: %d, labelled from %s: %d, left unlabelled: %s%s",
                     labels["blank_rows"], labels["reference"], labels["labelled_from_reference"],
                     labels["left_unlabelled"],
                     "".join(f"\n    shapes differ: {r}" for r in labels["shape_mismatch_rows"]))
    log.info("all rows read, by outcome: %s", result.log.by_reason())
    for reason, text in result.log.descriptions.items():
        if reason in result.log.by_reason():
            log.info("  %s: %s", reason, text)
