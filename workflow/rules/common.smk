# Loading and validation shared by every stage. Runs when the workflow is parsed, so bad
# configuration, a bad specification or a bad table stops the run before any job starts or any
# output is written (workflow/rules/glue/inputs.py). Conventions: CONTRIBUTING.md.
# The library and the glue are on sys.path (preflight.smk).
import os
import shlex

from glue.alpha_targets import device_figures
from glue.code import library_files
from glue.imports import PLAN_CACHE
from glue.inputs import load_inputs
from glue.report_pages import (
    ALPHA_CATEGORY,
    NETWORKS_CATEGORY,
    SUMMARY_CATEGORY,
    TRENDS2025_CATEGORY,
    TRENDS2025_PAGES,
    TRENDS_CATEGORY,
    alpha_figure_labels,
    alpha_figure_subcategory,
)
from greenflops.trends.registry import FIGURES as TREND_FIGURES
from greenflops.trends.registry import figures_of
from greenflops.trends.registry2025 import FIGURES as TRENDS2025_FIGURES

try:
    # Import plans are cached in the working directory's .snakemake/ (glue/imports.py).
    INPUTS = load_inputs(workflow.basedir, config, plan_cache=PLAN_CACHE)
except InputError as err:
    raise WorkflowError(str(err)) from None

TABLES = INPUTS.tables
TRENDS_SPEC = INPUTS.resources["trends"]
ALPHA_FIGURES = INPUTS.resources["alpha_figures"]["figures"]

SCHEMA_DIR = Path(workflow.basedir) / "workflow" / "schemas"
SCRIPTS_DIR = Path(workflow.basedir) / "scripts"

# Targets of the default target (all), one list per stage: TARGETS["<stage>"] = [paths].
TARGETS: dict[str, list[str]] = {}


def all_targets() -> list[str]:
    """Every output the default target builds, stage by stage."""
    return [path for stage in TARGETS.values() for path in stage]


# The interpreter running Snakemake (the project's venv), for `shell:` rules: a bare `python`
# may be another interpreter when the venv is not activated.
PYTHON = shlex.quote(sys.executable)


def _project_path(path: Path) -> str:
    """``path`` relative to the working directory, so that a moved or copied project keeps its
    inputs' names (absolute paths would make every job rerun)."""
    return os.path.relpath(path)


def schema_path(name: str) -> str:
    """Schema of one row of table ``name``: workflow/schemas/<name>.schema.yaml."""
    return _project_path(SCHEMA_DIR / f"{name}.schema.yaml")


def table_path(name: str) -> str:
    """Curated table ``name``: data/raw/tables/<name>.csv."""
    return f"data/raw/tables/{name}.csv"


def code(script: str) -> list[str]:
    """The library files that ``scripts/<script>.py`` imports, directly or not: inputs of its
    rule, so that editing any of them reruns exactly the jobs that run it."""
    files = library_files(SCRIPTS_DIR / f"{script}.py", SCRIPTS_DIR)
    return [_project_path(Path(f)) for f in files]


# --- planning helpers of the stages' rules ---------------------------------------------------


def trend_figure_outputs(group: str) -> dict:
    """Named outputs of the job drawing figure group ``group`` (greenflops.trends.registry):
    ``<id>_png`` (in the report, captioned by workflow/report/trends/<id>.rst) and ``<id>_pdf``.
    """
    outputs = {}
    for fig in figures_of(group):
        outputs[f"{fig.id}_png"] = report(
            f"figures/trends/{fig.stem}.png",
            caption=f"../report/trends/{fig.id}.rst",
            category=TRENDS_CATEGORY,
            subcategory=fig.paper,
            labels={"figure": fig.paper, "data": fig.data},
        )
        outputs[f"{fig.id}_pdf"] = f"figures/trends/{fig.stem}.pdf"
    return outputs


def trends2025_figure_outputs() -> dict:
    """Named outputs of the trends-through-2025 figure job (greenflops.trends.registry2025):
    ``<id>_png`` (in the report, captioned by workflow/report/trends2025/<id>.rst) and
    ``<id>_pdf``."""
    outputs = {}
    for fig in TRENDS2025_FIGURES:
        outputs[f"{fig.id}_png"] = report(
            f"figures/trends2025/{fig.stem}.png",
            caption=f"../report/trends2025/{fig.id}.rst",
            category=TRENDS2025_CATEGORY,
            subcategory=fig.subcategory,
            labels=fig.labels,
        )
        outputs[f"{fig.id}_pdf"] = f"figures/trends2025/{fig.stem}.pdf"
    return outputs


def trends2025_page_outputs() -> dict:
    """Named outputs ``<page>_html`` of the trends-through-2025 analysis job: the report pages of
    glue.report_pages.TRENDS2025_PAGES, captioned by workflow/report/trends2025/page_<page>.rst.
    """
    return {
        f"{name}_html": report(
            page["html"],
            caption=f"../report/trends2025/page_{name}.rst",
            category=TRENDS2025_CATEGORY,
            subcategory=page["subcategory"],
            labels=page["labels"],
        )
        for name, page in TRENDS2025_PAGES.items()
    }


def energy_models(wildcards) -> dict:
    """The models of one domain: CV with the computed estimates, NLP as curated."""
    if wildcards.domain == "cv":
        return {"models": rules.flops_estimates.output.cv}
    return {"models": table_path("nlp_models"), "schema": schema_path("nlp_models")}


def alpha_figure_outputs(device_id: str, figures: list) -> dict:
    """Named outputs of one device's figure job: ``<fig>_png`` (in the report, captioned by
    workflow/report/alpha/<fig>.rst) and ``<fig>_pdf``, for each figure the device gets.
    """
    outputs = {}
    for fig in figures:
        outputs[f"{fig}_png"] = report(
            f"figures/alpha/{device_id}/{fig}.png",
            caption=f"../report/alpha/{fig}.rst",
            category=ALPHA_CATEGORY,
            subcategory=alpha_figure_subcategory(fig),
            labels=alpha_figure_labels(device_id, fig, ALPHA_FIGURES),
        )
        outputs[f"{fig}_pdf"] = f"figures/alpha/{device_id}/{fig}.pdf"
    return outputs


def figure_index_sections(devices: dict, folders: dict) -> dict:
    """The figures of figures/index.md by section: file, caption file (and device)."""
    trends = [
        {
            "file": f"figures/trends/{fig.stem}.png",
            "caption": f"workflow/report/trends/{fig.id}.rst",
        }
        for fig in TREND_FIGURES
    ]
    alpha = [
        {
            "file": f"figures/alpha/{device_id}/{fig}.png",
            "caption": f"workflow/report/alpha/{fig}.rst",
            "device": device_id,
            "folder": folders[device_id],
        }
        for device_id, device in devices.items()
        for fig in device_figures(device, ALPHA_FIGURES)
    ]
    extended = [
        {
            "file": f"figures/trends2025/{fig.stem}.png",
            "caption": f"workflow/report/trends2025/{fig.id}.rst",
        }
        for fig in TRENDS2025_FIGURES
    ]
    cross = (
        [
            {
                "file": "figures/alpha/cross_device.png",
                "caption": "workflow/report/alpha/cross_device.rst",
            }
        ]
        if devices
        else []
    )
    # The networks stage's two figures (docs/networks.md), made whenever it has networks.
    networks = [
        {
            "file": f"figures/networks/{stem}.png",
            "caption": f"workflow/report/networks/{stem}.rst",
        }
        for stem in ("pred_vs_measured", "energy")
        if config["networks"]["architectures"]
    ]
    return {
        "Desislavov et al. 2021, inference energy trends (figures/trends/)": trends,
        "Beyond the papers: the trends through 2025 (figures/trends2025/)": extended,
        "Asperti et al. 2021, α-FLOPs, per device (figures/alpha/<device>/)": alpha,
        "Beyond the paper: α time models across devices (figures/alpha/)": cross,
        "Beyond the papers: whole networks (figures/networks/)": networks,
    }
