# The cross-machine report: this machine's run and every other machine's run of
# the same name found under results/ (copied there from other machines), built
# from their summaries alone. Target: snakemake --cores 4 compare

COMPARE_DIR = Path(config["results_dir"]) / "_compare" / config["run_name"]


rule compare_machines:
    input:
        lambda wildcards: [folder / name for folder in runs_to_compare() for name in ("summary.csv", "claims.csv", "run.json")],
        templates=TEMPLATES,
        code=report_step_sources("report.render"),
    output:
        html=COMPARE_DIR / "compare.html",
    log:
        COMPARE_DIR / "logs" / "compare_machines.log",
    params:
        runs=lambda wildcards: " ".join(str(folder) for folder in runs_to_compare()),
    conda:
        ENVIRONMENT
    shell:
        "python -m report compare --runs {params.runs} --output {output.html} 2>&1 | tee {log}"


rule compare_pdf:
    input:
        html=rules.compare_machines.output.html,
        code=report_step_sources("report.pdf"),
    output:
        pdf=COMPARE_DIR / "compare.pdf",
    log:
        COMPARE_DIR / "logs" / "compare_pdf.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m report pdf --html {input.html} --output {output.pdf} 2>&1 | tee {log}"


rule compare:
    input:
        rules.compare_machines.output.html,
        rules.compare_pdf.output.pdf,
