# Stage 0: the curated tables of the papers, validated when the workflow loads (common.smk).


rule table_inventory:
    input:
        tables=[table_path(name) for name in TABLES],
        schemas=[schema_path(name) for name in TABLES],
        library=code("table_inventory"),
    output:
        "data/processed/table_inventory.csv",
    log:
        "logs/tables/table_inventory.log",
    localrule: True
    conda:
        "../../environment.yml"
    message:
        "Inventory of the validated curated tables"
    script:
        "../../scripts/table_inventory.py"


TARGETS["tables"] = rules.table_inventory.output
