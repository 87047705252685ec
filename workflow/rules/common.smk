# Loading and validation shared by every stage. Runs when the workflow is parsed, so bad
# configuration or a bad table stops the run before any job starts or any output is written.
# Conventions for rules, scripts and the library: CONTRIBUTING.md.
import os
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The library (scripts/greenflops) is imported here at parse time; Snakemake adds scripts/ to
# sys.path by itself for the scripts that rules run.
sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
from greenflops.tables import TableValidationError, read_table  # noqa: E402

validate(config, schema="../schemas/config.schema.yaml")

SCHEMA_DIR = Path(workflow.basedir) / "workflow" / "schemas"
LIBRARY_DIR = Path(workflow.basedir) / "scripts" / "greenflops"

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


def library(*modules: str) -> list[str]:
    """Library modules a rule's script imports: made inputs so that code changes trigger reruns."""
    return [_project_path(LIBRARY_DIR / f"{module}.py") for module in modules]


def load_validated_table(path: str, schema_name: str):
    """Read and validate a table; a problem stops the workflow with file, line and column."""
    try:
        frame = read_table(path, schema_path(schema_name))
    except TableValidationError as err:
        raise WorkflowError(f"Invalid input: {err}") from None
    # Snakemake's own validator on the typed rows, as the workflow template does.
    validate(
        frame, schema=str(SCHEMA_DIR / f"{schema_name}.schema.yaml"), set_default=False
    )
    return frame


TABLES = {
    name: load_validated_table(table_path(name), name) for name in config["tables"]
}
