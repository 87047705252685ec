# Stage 0: the curated tables of the papers, validated when the workflow loads (common.smk).


rule table_inventory:
    input:
        tables=expand("data/raw/tables/{name}.csv", name=config["tables"]),
        schemas=expand("workflow/schemas/{name}.schema.yaml", name=config["tables"]),
        library=library("tables", "outputs"),
    output:
        "data/processed/table_inventory.csv",
    log:
        "logs/tables/table_inventory.log",
    conda:
        "../../environment.yml"
    message:
        "Inventory of the validated curated tables"
    script:
        "../../scripts/table_inventory.py"


TARGETS["tables"] = rules.table_inventory.output
