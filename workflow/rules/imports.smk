# Stage "imports": public timing datasets (config `imports`, docs/imports.md) converted into the
# timing contract under data/imported/<device_id>/ (git-ignored), one folder per device, workbook
# and precision, each with device.yaml (its `source`: repository, commit, file, license) and
# import_summary.yaml (rows imported and dropped, by reason). One job per configured import
# (rules import_data_<name>) writes all its folders or none, plus the whole-import summaries
# data/imported/import_summary_<name>.yaml/.csv. The datasets an import writes were planned when
# the workflow loaded (common.smk, workflow/rules/glue/imports.py), so the alpha stage plans
# their fits, figures and report pages like those of data/raw/timings/. With `imports: []` (the
# default) this file defines no rule.
from glue.imports import IMPORTED_ROOT

IMPORTS = INPUTS.imports


for _name, _import in IMPORTS.items():

    rule:
        name:
            f"import_data_{_name}"
        input:
            sources=list(_import.sources),
            schemas=[schema_path("timings"), schema_path("device")],
            gpu_specs=table_path("gpu_specs"),
            library=code("import_data"),
        output:
            _import.outputs(),
        log:
            f"logs/imports/import_data_{_name}.log",
        benchmark:
            f"logs/benchmarks/import_data_{_name}.tsv"
        conda:
            "../../environment.yml"
        params:
            name=_name,
            format=_import.format,
            # the datasets planned when the workflow loaded; the job checks that it writes them
            plan=_import.plan_json(),
        message:
            f"Import {_import.format} from {_import.path}: {len(_import.datasets)} timing folders under {IMPORTED_ROOT}/"
        script:
            "../../scripts/import_data.py"


TARGETS["imports"] = [f for imp in IMPORTS.values() for f in imp.summaries()]
