"""Tables 1, 4 and 9 of Desislavov et al. (2021) as Markdown and LaTeX (rules trends_tables_*)."""

import pandas as pd

from greenflops.io.outputs import atomic_write_text, log_to_file
from greenflops.io.render import to_latex, to_markdown
from greenflops.trends import tables

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def csv(name: str) -> pd.DataFrame:
    return pd.read_csv(snakemake.input[name], keep_default_na=False, na_values=[""])


with log_to_file(snakemake.log[0]) as log:
    spec = snakemake.params.spec
    build = {
        "table01": lambda: tables.table01(csv("models"), spec["table1"]),
        "table04": lambda: tables.table04(csv("speedups"), spec["fp32_reference"]),
        "table09": lambda: tables.table09(csv("efficiency"), spec["table9"]),
    }
    for name in snakemake.params.tables:
        table = build[name]()
        atomic_write_text(snakemake.output[f"{name}_md"],
                          to_markdown(table.frame, table.formats, title=table.title,
                                      notes=table.notes))
        atomic_write_text(snakemake.output[f"{name}_tex"],
                          to_latex(table.frame, table.formats, caption=table.title,
                                   label=f"tab:{name}"))
        log.info("%s: %d rows", name, len(table.frame))
