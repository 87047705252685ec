"""Network FLOPs against torch.utils.flop_counter and the trends paper's Table 2 (rule
networks_flops): figures/networks/flops_comparison.csv and .md, from the op tables' capture
facts (data/raw/networks/<network>/<shape>.meta.yaml) and data/raw/tables/cv_models.csv."""

from pathlib import Path

from greenflops.io.outputs import atomic_write_text, log_to_file, write_csv
from greenflops.io.plainyaml import read_yaml
from greenflops.io.tables import read_table
from greenflops.networks.tables import flops_comparison, flops_markdown

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive

with log_to_file(snakemake.log[0]) as log:
    inp = snakemake.input
    captures = {}
    for path in inp.metas:
        meta = read_yaml(path)
        captures[(Path(path).parent.name, meta["input_shape"])] = meta
    cv = read_table(inp.cv_models, inp.cv_schema)
    table = flops_comparison(snakemake.params.networks, snakemake.params.registry, captures, cv)
    log.info("\n%s", table.drop(columns=["reason"]).to_string(index=False))
    write_csv(table, snakemake.output.csv)
    atomic_write_text(snakemake.output.md, flops_markdown(table))
