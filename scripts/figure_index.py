"""Every figure the run made, with its caption: figures/index.md (rule figure_index). The captions
are the report's own (workflow/report/); this page is the same text for readers of the files."""

from pathlib import Path

from greenflops.io.outputs import atomic_write_text, log_to_file

snakemake = globals()["snakemake"]  # injected by Snakemake's `script:` directive


def caption(path: str, device_id: str | None = None, folder: str | None = None) -> str:
    """The caption's text, with the device's id and data folder in place of the template's."""
    text = " ".join(Path(path).read_text(encoding="utf-8").split())
    text = text.replace("{{ snakemake.params.data_folder }}", folder or "<data folder>")
    return text.replace("{{ snakemake.params.device_id }}", device_id or "<device>")


with log_to_file(snakemake.log[0]) as log:
    lines = ["# Figures of this run", "",
             "Each figure with its caption (the report's, from `workflow/report/`). PNG and PDF "
             "beside each other; `snakemake --report report.html` shows them with the tables.", ""]
    for section, entries in snakemake.params.sections.items():
        lines += [f"## {section}", ""]
        for entry in entries:
            text = caption(entry["caption"], entry.get("device"), entry.get("folder"))
            lines.append(f"- **`{entry['file']}`**: {text}")
        lines.append("")
    atomic_write_text(snakemake.output[0], "\n".join(lines))
    log.info("%d figures", sum(len(e) for e in snakemake.params.sections.values()))
