"""Fit every time model on one device: params.yaml, fit_report.csv, fit_report_by_sweep.csv and
predictions.csv under data/processed/alpha/<device_id>/ (rule alpha_fit)."""

import yaml
from greenflops.alpha.document import params_document
from greenflops.alpha.features import GROUPED_NOTE, split_grouped
from greenflops.alpha.smoothness import neighbour_floor
from greenflops.alpha.validation import fit_device
from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.timing.datasets import load_device
from greenflops.timing.gpu_specs import load_specs, spec_of_device
from greenflops.timing.grids import sweep_lines

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    p = snakemake.params
    timings, meta, files = load_device(p.folder, snakemake.input.schema, p.device_schema)
    log.info("%s: %d rows from %d files", snakemake.wildcards.device_id, len(timings), len(files))
    timings, grouped = split_grouped(timings)
    spec = spec_of_device(meta, load_specs(snakemake.input.gpu_specs, p.gpu_specs_schema))
    models = p.cpu_models if meta.get("device_type") == "cpu" and p.cpu_models else p.models
    settings = {"starts": p.starts, "seed": p.seed, "residual": p.residual, "loss": p.loss,
                "f_scale": p.f_scale, "max_rel_iqr": p.max_rel_iqr,
                "family_starts": p.family_starts,
                "kfold": p.kfold["folds"], "kfold_seed": p.kfold["seed"], "bound": p.bound}
    devfit = fit_device(timings, meta, models=models, spec=spec, **settings)
    if len(grouped):
        devfit.notes["grouped_conv"] = GROUPED_NOTE.format(
            n=len(grouped), sweeps=", ".join(sorted(grouped["sweep"].astype(str).unique())))
    for fact, source in devfit.facts.sources.items():
        log.info("device fact %s = %s (%s)", fact, getattr(devfit.facts, fact), source)
    floor = neighbour_floor(timings, sweep_lines(timings["sweep"]))
    log.info("neighbour-interpolation floor: MAPE %s%%, median %s%%", floor["mape_pct"],
             floor["median_ape_pct"])
    for note in devfit.notes.values():
        log.info("note: %s", note)
    log.info("fit report:\n%s", devfit.report.to_string(index=False))
    log.info("recommended model: %s (%s)", devfit.recommended,
             devfit.recommendation.get("why"))
    doc = params_document(snakemake.wildcards.device_id, devfit, files, timings, settings, floor)
    write_csv(devfit.report, snakemake.output.report)
    write_csv(devfit.by_sweep, snakemake.output.by_sweep)
    write_csv(devfit.predictions, snakemake.output.predictions)
    atomic_write_text(snakemake.output.params,
                      yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100))
