"""What the run found, on one page: figures/tables/summary.md (rule summary). Sections come from
greenflops.summary; the README and docs link this file instead of quoting numbers."""

import pandas as pd

from greenflops import summary
from greenflops.io.outputs import atomic_write_text, log_to_file
from greenflops.io.plainyaml import read_yaml

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def device_of(path: str) -> str:
    return path.split("/")[-2]


with log_to_file(snakemake.log[0]) as log:
    inp = snakemake.input
    sections = [
        "# greenflops: what this run found\n\nGenerated from the outputs of `snakemake --cores "
        "all` (rule summary); every number below is recomputed on each run.\n",
        summary.fidelity_section(pd.read_csv(inp.fidelity, keep_default_na=False,
                                             na_values=[""])),
        summary.trends_section(pd.read_csv(inp.trend_fits)),
        summary.trends2025_section(inp.trends2025),
    ]
    devices = {}
    for params_path, report_path in zip(inp.params, inp.reports):
        devices[device_of(params_path)] = (read_yaml(params_path), pd.read_csv(report_path))
    if devices:
        sections.append(summary.alpha_section(devices))
        sections.append(summary.recommended_section(devices))
    networks = {device_of(p): pd.read_csv(p) for p in inp.networks}
    if networks:
        sections.append(summary.networks_section(networks))
    sections.append(summary.torchvision_section(pd.read_csv(inp.torchvision)))
    atomic_write_text(snakemake.output[0], "\n".join(sections))
    log.info("summary: %d sections", len(sections))
