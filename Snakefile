# The multiprocessing report: run every configured experiment on this machine,
# collect the trials into one tidy table, analyse, draw, render HTML and PDF.
#
#   snakemake --cores 4                                   default grid
#   snakemake --cores 4 --configfile config/smoke.yaml    tiny grid (tests)
#   snakemake --cores 4 --configfile config/book.yaml     the book's sizes

from pathlib import Path

from snakemake.utils import min_version

from experiments.config import read_config_file

min_version("9.0")


# The default grid applies only when the configuration given on the command line names no
# experiments (no --configfile, or one without them): Snakemake merges a configfile: directive
# under the --configfile values, so an experiment the chosen file leaves out would still run.
if "experiments" not in config:
    # Snakemake's message for a YAML syntax error names neither the file nor the line; ours does.
    read_config_file(Path(workflow.basedir) / "config" / "config.yaml")

    configfile: Path(workflow.basedir) / "config" / "config.yaml"


# rules/common.smk puts the workflow's Python first on PATH; jobs elsewhere (SLURM) need it too.
envvars:
    "PATH",


include: "rules/common.smk"
include: "rules/experiments.smk"
include: "rules/report.smk"
include: "rules/compare.smk"


# Aggregation and rendering are light: on a cluster they run where Snakemake runs.
localrules:
    all,
    record_config,
    collect_trials,
    analyze_trials,
    draw_figures,
    render_html,
    render_pdf,
    compare_machines,
    compare_pdf,
    compare,


rule all:
    input:
        rules.render_html.output.html,
        rules.render_pdf.output.pdf,
    default_target: True
