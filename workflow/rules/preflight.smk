# Before Snakemake reads config.yaml: refuse YAML aliases, anchors and tags there (a "billion
# laughs" file would take memory without bound; a tag asks for types data never needs), with the
# line they are on. The library (scripts/greenflops) and the rules' glue (workflow/rules/glue) are
# put on the path here for every rule file; Snakemake adds scripts/ by itself for the scripts.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "scripts"))
sys.path.insert(0, str(Path(workflow.basedir) / "workflow" / "rules"))
from glue.inputs import InputError, check_config_file  # noqa: E402

try:
    check_config_file(Path(workflow.basedir) / "config.yaml")
except InputError as err:
    raise WorkflowError(str(err)) from None
