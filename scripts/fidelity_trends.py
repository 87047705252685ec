"""Printed vs regenerated numbers of Desislavov et al. (2021) (rule fidelity_trends)."""

import pandas as pd

from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.tables import read_table
from greenflops.io.render import to_markdown
from greenflops.trends.fidelity import fidelity_table, regenerated_values

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(snakemake.input[name], keep_default_na=False, na_values=[""])


with log_to_file(snakemake.log[0]) as log:
    inp = snakemake.input
    regenerated = regenerated_values(
        benchmark_speedups=csv("benchmark_speedups"),
        speedups=csv("speedups"),
        gpus=read_table(inp.gpus, inp.gpus_schema),
        efficiency=csv("efficiency"),
        estimates=csv("estimates"),
        correlation=csv("correlation"),
        human=csv("human"),
    )
    printed = read_table(inp.paper_values, inp.paper_values_schema)
    table = fidelity_table(regenerated, printed, snakemake.params.tolerance_units)
    counts = table["status"].value_counts()
    log.info("fidelity: %s", counts.to_dict())
    write_csv(table, snakemake.output.csv)
    summary = ", ".join(f"{counts.get(s, 0)} {s}" for s in ("match", "explained", "UNEXPLAINED", "missing"))
    per_item = table.groupby("item", sort=False)["status"].agg(
        lambda s: ", ".join(f"{n} {k}" for k, n in s.value_counts().sort_index().items())
    )
    notes = [
        f"Summary: {len(table)} printed numbers: {summary}.",
        "",
        "Per item: " + "; ".join(f"{i}: {s}" for i, s in per_item.items()) + ".",
        "",
        "status: match = within the paper's rounding (|diff| <= "
        f"{snakemake.params.tolerance_units:g} x the unit of the last printed digit); explained = "
        "differs by more, with the reason in the explanation column; UNEXPLAINED = differs, no "
        "reason found. Printed values: data/raw/tables/trends_paper_values.csv.",
    ]
    shown = table[["item", "key", "paper_value", "value", "rel_diff", "status", "explanation"]]
    atomic_write_text(
        snakemake.output.md,
        to_markdown(
            shown,
            {"paper_value": ".6g", "value": ".6g", "rel_diff": "+.2%"},
            title="Fidelity: numbers printed in Desislavov et al. (2021) vs regenerated",
            notes=notes,
        ),
    )
