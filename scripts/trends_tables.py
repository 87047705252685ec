"""Tables 1, 4 and 9 of Desislavov et al. (2021) as Markdown and LaTeX (rules table01, table04, table09)."""

import pandas as pd

from greenflops.outputs import atomic_write_text, log_to_file
from greenflops.tabletext import to_latex, to_markdown
from greenflops.trend_analysis import similar_flops

snakemake = globals()["snakemake"]


def table01(settings: dict) -> tuple[pd.DataFrame, dict, str, list[str]]:
    models = pd.read_csv(snakemake.input.models, keep_default_na=False, na_values=[""])
    cfg = settings["table1"]
    kept = similar_flops(models, cfg["reference_model"], cfg["max_gflops_ratio"])
    out = pd.DataFrame(
        {
            "Model": kept["model"],
            "Top-1 Accuracy": kept["top1_accuracy_pct"],
            "GFLOPs": kept["gflops"],
            "Year": kept["release_date"].str[:4],
            "Extra data": kept["extra_data"],
            "In paper's Table 1": kept["model"].isin(cfg["paper_models"]),
        }
    )
    title = (
        f"Table 1: models with GFLOPs within a factor {cfg['max_gflops_ratio']:g} of "
        f"{cfg['reference_model']}'s"
    )
    notes = [
        "Criterion (config trends.table1): reference GFLOPs / ratio <= GFLOPs <= reference GFLOPs x "
        "ratio. The paper's Table 1 prints a hand-picked subset; the last column marks it."
    ]
    return out, {"Top-1 Accuracy": ".2f", "GFLOPs": ".2f"}, title, notes


def table04(cfg: dict) -> tuple[pd.DataFrame, dict, str, list[str]]:
    speedups = pd.read_csv(snakemake.input.speedups)
    keys = list(dict.fromkeys(zip(speedups["gpu"], speedups["precision"])))
    by = speedups.set_index(["task", "gpu", "precision"])

    def cell(task: str, gpu: str, precision: str, column: str) -> float:
        key = (task, gpu, precision)
        return float(by.loc[key, column]) if key in by.index else float("nan")

    ref = cfg["fp32_reference"]
    out = pd.DataFrame(
        {
            "GPU": [g for g, _ in keys],
            "Precision speed-up": [f"{p} speed-up ratio to {ref[g]} FP32" for g, p in keys],
            "CV models": [cell("CV", g, p, "speedup") for g, p in keys],
            "NLP models": [cell("NLP", g, p, "speedup") for g, p in keys],
            "CV benchmarks": [cell("CV", g, p, "n_benchmarks") for g, p in keys],
            "NLP benchmarks": [cell("NLP", g, p, "n_benchmarks") for g, p in keys],
        }
    )
    title = "Table 4: mixed-precision speed-ups for inference (mean over Table 3's benchmarks)"
    notes = ["Derived from Table 3 (data/raw/tables/precision_throughput.csv); two decimals as printed."]
    return out, {"CV models": ".2f", "NLP models": ".2f", "CV benchmarks": ".0f", "NLP benchmarks": ".0f"}, title, notes


def table09(cfg: dict) -> tuple[pd.DataFrame, dict, str, list[str]]:
    eff = pd.read_csv(snakemake.input.efficiency)
    base = eff[(~eff["adapted"]) & (eff["domain"] == "cv")].assign(Adapted="No")
    cv = eff[eff["adapted"] & (eff["domain"] == "cv")].assign(Adapted="For CNN")
    nlp = eff[eff["adapted"] & (eff["domain"] == "nlp")].assign(Adapted="For NLP")
    rows = pd.concat([base, cv, nlp], ignore_index=True)
    out = pd.DataFrame(
        {
            "Adapted": rows["Adapted"],
            "GPU": rows["gpu"],
            "Precision": rows["precision"],
            "TFLOPS": rows["tflops"],
            "Watts": rows["watts"],
            "Launch date": rows["launch_date"],
            "Type": rows["type"].str.capitalize(),
            "GFLOPS/Watt": rows["gflops_per_watt"],
        }
    )
    title = "Table 9: GPU throughput and power, adapted to CV and NLP inference"
    left_out = "; ".join(f"{r['gpu']} {r['precision']}: {r['reason']}" for r in cfg["table9"]["exclude"])
    notes = [
        "FP32 rows are shared by both domains (gpu_efficiency.csv repeats them under domain cv and nlp). "
        "Adapted TFLOPS = FP32 TFLOPS of the reference GPU x the unrounded mean speed-up of Table 4.",
        f"Table 8 rows left out (config trends.table9): {left_out}",
    ]
    return out, {"TFLOPS": ".2f", "GFLOPS/Watt": ".2f"}, title, notes


with log_to_file(snakemake.log[0]) as log:
    builders = {"table01": table01, "table04": table04, "table09": table09}
    for table in snakemake.params.tables:
        frame, formats, title, notes = builders[table](snakemake.params.settings)
        atomic_write_text(snakemake.output[f"{table}_md"], to_markdown(frame, formats, title=title, notes=notes))
        atomic_write_text(
            snakemake.output[f"{table}_tex"], to_latex(frame, formats, caption=title, label=f"tab:{table}")
        )
        log.info("%s: %d rows", table, len(frame))
