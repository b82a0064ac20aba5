# From raw trials to the report. None of these jobs is timed; each is a thin call
# of the report package, so re-rendering after a template change reruns only the
# last two rules.


rule record_config:
    output:
        RUN_DIR / "config.json",
    params:
        config=json.dumps(config, indent=2, sort_keys=True),
    run:
        Path(output[0]).write_text(params.config + "\n")


rule collect_trials:
    input:
        trials=expand(RUN_DIR / "raw" / "{job}.csv", job=JOBS),
        provenance=expand(RUN_DIR / "raw" / "{job}.json", job=JOBS),
        cores=expand(RUN_DIR / "raw" / "{job}.cores.csv", job=JOBS),
    output:
        tidy=RUN_DIR / "trials.csv",
        run=RUN_DIR / "run.json",
        cores=RUN_DIR / "cores.csv",
    shell:
        "{PYTHON} -m report collect --trials {input.trials} --provenance {input.provenance} --cores {input.cores}"
        " --tidy {output.tidy} --run {output.run} --cores-output {output.cores}"


rule analyze_trials:
    input:
        tidy=rules.collect_trials.output.tidy,
        run=rules.collect_trials.output.run,
        config=rules.record_config.output[0],
    output:
        summary=RUN_DIR / "summary.csv",
        comparison=RUN_DIR / "book_comparison.csv",
        claims=RUN_DIR / "claims.csv",
        quality=RUN_DIR / "quality.json",
    shell:
        "{PYTHON} -m report analyze --tidy {input.tidy} --run {input.run} --config {input.config}"
        " --summary {output.summary} --comparison {output.comparison} --claims {output.claims}"
        " --quality {output.quality}"


rule draw_figures:
    input:
        summary=rules.analyze_trials.output.summary,
        comparison=rules.analyze_trials.output.comparison,
        run=rules.collect_trials.output.run,
        cores=rules.collect_trials.output.cores,
        config=rules.record_config.output[0],
    output:
        expand(RUN_DIR / "figures" / "{figure}.svg", figure=FIGURES),
    params:
        folder=RUN_DIR / "figures",
    shell:
        "{PYTHON} -m report figures --summary {input.summary} --comparison {input.comparison}"
        " --run {input.run} --cores {input.cores} --config {input.config} --folder {params.folder} {FIGURES}"


rule render_html:
    input:
        summary=rules.analyze_trials.output.summary,
        comparison=rules.analyze_trials.output.comparison,
        quality=rules.analyze_trials.output.quality,
        claims=rules.analyze_trials.output.claims,
        run=rules.collect_trials.output.run,
        config=rules.record_config.output[0],
        figures=rules.draw_figures.output,
        templates=list((Path(workflow.basedir) / "report" / "templates").rglob("*")),
    output:
        html=RUN_DIR / "report.html",
    shell:
        "{PYTHON} -m report html --summary {input.summary} --comparison {input.comparison}"
        " --quality {input.quality} --claims {input.claims} --run {input.run} --config {input.config}"
        " --figures {input.figures} --output {output.html}"


rule render_pdf:
    input:
        html=rules.render_html.output.html,
    output:
        pdf=RUN_DIR / "report.pdf",
    shell:
        "{PYTHON} -m report pdf --html {input.html} --output {output.pdf}"
