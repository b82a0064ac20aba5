# The cross-machine report: this machine's run and every other machine's run of
# the same name found under results/ (copied there from other machines), built
# from their summaries alone. Target: snakemake --cores 4 compare

COMPARE_DIR = Path(config["results_dir"]) / "_compare" / config["run_name"]


def runs_to_compare(wildcards=None):
    """Run folders of the same run name: this machine's and any other machine's present now."""
    found = {path.parent for path in Path(config["results_dir"]).glob(f"*/{config['run_name']}/summary.csv")}
    return sorted(found | {RUN_DIR})


rule compare_machines:
    input:
        lambda wildcards: [folder / name for folder in runs_to_compare() for name in ("summary.csv", "claims.csv", "run.json")],
        templates=list((Path(workflow.basedir) / "report" / "templates").rglob("*")),
    output:
        html=COMPARE_DIR / "compare.html",
    params:
        runs=lambda wildcards: " ".join(str(folder) for folder in runs_to_compare()),
    shell:
        "{PYTHON} -m report compare --runs {params.runs} --output {output.html}"


rule compare_pdf:
    input:
        html=rules.compare_machines.output.html,
    output:
        pdf=COMPARE_DIR / "compare.pdf",
    shell:
        "{PYTHON} -m report pdf --html {input.html} --output {output.pdf}"


rule compare:
    input:
        rules.compare_machines.output.html,
        rules.compare_pdf.output.pdf,
