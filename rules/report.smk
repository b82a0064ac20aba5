# From raw trials to the report. None of these jobs is timed; each is a thin call
# of the report package. Each rule's inputs include the Python sources its step
# runs, so editing report/figures/pi.py redraws the figures and editing a template
# re-renders only the HTML and PDF. Each job's messages go to the terminal and to
# its log under logs/.

#: The report's templates: inputs of the rendering rules.
TEMPLATES = sorted(path for path in (Path(workflow.basedir) / "report" / "templates").rglob("*") if path.is_file())


rule record_config:
    output:
        RUN_DIR / "config.json",
    log:
        RUN_DIR / "logs" / "record_config.log",
    params:
        config=json.dumps(config, indent=2, sort_keys=True),
    conda:
        ENVIRONMENT
    shell:
        "printf '%s\\n' {params.config:q} > {output} 2> {log}"


rule collect_trials:
    input:
        trials=expand(RUN_DIR / "raw" / "{job}.csv", job=JOBS),
        provenance=expand(RUN_DIR / "raw" / "{job}.json", job=JOBS),
        cores=expand(RUN_DIR / "raw" / "{job}.cores.csv", job=JOBS),
        # a published run's tidy table has no raw trials left to be collected again from
        code=[] if PUBLISHED else report_step_sources("report.load"),
    output:
        tidy=RUN_DIR / "trials.csv",
        run=RUN_DIR / "run.json",
        cores=RUN_DIR / "cores.csv",
    log:
        RUN_DIR / "logs" / "collect_trials.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m report collect --trials {input.trials} --provenance {input.provenance} --cores {input.cores}"
        " --tidy {output.tidy} --run {output.run} --cores-output {output.cores} 2>&1 | tee {log}"


rule analyze_trials:
    input:
        tidy=rules.collect_trials.output.tidy,
        run=rules.collect_trials.output.run,
        config=rules.record_config.output[0],
        code=report_step_sources("report.load", "report.analysis", "report.book", "report.claims"),
    output:
        summary=RUN_DIR / "summary.csv",
        comparison=RUN_DIR / "book_comparison.csv",
        claims=RUN_DIR / "claims.csv",
        quality=RUN_DIR / "quality.json",
    log:
        RUN_DIR / "logs" / "analyze_trials.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m report analyze --tidy {input.tidy} --run {input.run} --config {input.config}"
        " --summary {output.summary} --comparison {output.comparison} --claims {output.claims}"
        " --quality {output.quality} 2>&1 | tee {log}"


rule draw_figures:
    input:
        summary=rules.analyze_trials.output.summary,
        comparison=rules.analyze_trials.output.comparison,
        run=rules.collect_trials.output.run,
        cores=rules.collect_trials.output.cores,
        config=rules.record_config.output[0],
        code=report_step_sources("report.load", "report.figures"),
    # a folder: the step draws the figures the run's configuration has, which the workflow need not
    # import matplotlib to name (half a second off every start)
    output:
        directory(RUN_DIR / "figures"),
    log:
        RUN_DIR / "logs" / "draw_figures.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m report figures --summary {input.summary} --comparison {input.comparison}"
        " --run {input.run} --cores {input.cores} --config {input.config} --folder {output} 2>&1 | tee {log}"


rule render_html:
    input:
        summary=rules.analyze_trials.output.summary,
        comparison=rules.analyze_trials.output.comparison,
        quality=rules.analyze_trials.output.quality,
        claims=rules.analyze_trials.output.claims,
        run=rules.collect_trials.output.run,
        config=rules.record_config.output[0],
        figures=rules.draw_figures.output,
        # embedded as a download, and read for how quiet the machine was
        trials=rules.collect_trials.output.tidy,
        templates=TEMPLATES,
        code=report_step_sources("report.load", "report.book", "report.render"),
    output:
        html=RUN_DIR / "report.html",
    log:
        RUN_DIR / "logs" / "render_html.log",
    conda:
        ENVIRONMENT
    shell:
        "python -m report html --summary {input.summary} --comparison {input.comparison}"
        " --quality {input.quality} --claims {input.claims} --run {input.run} --config {input.config}"
        " --figures {input.figures} --output {output.html} 2>&1 | tee {log}"


rule render_pdf:
    input:
        html=rules.render_html.output.html,
        # attached to the PDF, so that a report mailed on still holds its data
        data=[rules.collect_trials.output.tidy, rules.analyze_trials.output.summary,
              rules.analyze_trials.output.claims, rules.analyze_trials.output.comparison],
        code=report_step_sources("report.pdf"),
    output:
        pdf=RUN_DIR / "report.pdf",
    log:
        RUN_DIR / "logs" / "render_pdf.log",
    # the body and the appendix are laid out at once, in two processes (report/pdf.py)
    threads: 2
    conda:
        ENVIRONMENT
    shell:
        "python -m report pdf --html {input.html} --attach {input.data} --output {output.pdf} 2>&1 | tee {log}"
