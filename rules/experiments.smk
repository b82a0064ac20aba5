# One timed job per experiment. Each asks for every core Snakemake has, so no
# other job runs beside it whatever --cores says; a file lock shared by all
# timed jobs also keeps apart two workflows started on the same results folder.


rule run_experiment:
    output:
        trials=RUN_DIR / "raw" / "{experiment}.csv",
        provenance=RUN_DIR / "raw" / "{experiment}.json",
    log:
        RUN_DIR / "logs" / "{experiment}.log",
    wildcard_constraints:
        experiment="|".join(SETTINGS),
    params:
        settings=lambda wildcards: shlex.quote(json.dumps(SETTINGS[wildcards.experiment])),
        start_method=f"--start-method {config['start_method']}" if config["start_method"] else "",
        memory_interval=config["memory_interval"] or 0,
        lock=Path(config["results_dir"]) / ".timed-jobs.lock",
    threads: workflow.cores
    shell:
        "{PYTHON} -m experiments run {wildcards.experiment} --settings {params.settings}"
        " --output {output.trials} --provenance {output.provenance} --log {log}"
        " --lock {params.lock} --blas-threads {config[blas_threads]}"
        " --memory-interval {params.memory_interval} {params.start_method}"
