# One timed job per experiment and interpreter. Each asks for every core Snakemake
# has, so no other job runs beside it whatever --cores says; a file lock shared by
# all timed jobs on this machine also keeps apart two workflows started at once.
# A job on another interpreter starts here and becomes that interpreter, or
# records why it could not (the report lists it as skipped).


rule run_experiment:
    input:
        code=experiment_sources,
    output:
        trials=RUN_DIR / "raw" / "{experiment}@{interpreter}.csv",
        provenance=RUN_DIR / "raw" / "{experiment}@{interpreter}.json",
        cores=RUN_DIR / "raw" / "{experiment}@{interpreter}.cores.csv",
    log:
        RUN_DIR / "logs" / "{experiment}@{interpreter}.log",
    wildcard_constraints:
        experiment="|".join(SETTINGS),
        interpreter="|".join([MAIN, *INTERPRETERS]),
    params:
        python=lambda wildcards: (
            "" if wildcards.interpreter == MAIN
            else shlex.join(INTERPRETERS[wildcards.interpreter].job_arguments())
        ),
        settings=lambda wildcards: shlex.quote(json.dumps(SETTINGS[wildcards.experiment])),
        start_method=f"--start-method {config['start_method']}" if config["start_method"] else "",
        memory_interval=config["memory_interval"] or 0,
        blas_threads=config["blas_threads"],
    threads: TIMED_JOB_THREADS
    conda:
        ENVIRONMENT
    # The job writes its progress lines to {log} itself, and to the terminal.
    shell:
        "python -m experiments run {wildcards.experiment} --settings {params.settings}"
        " --output {output.trials} --provenance {output.provenance} --cores {output.cores} --log {log}"
        " --blas-threads {params.blas_threads}"
        " --memory-interval {params.memory_interval} {params.start_method}"
        " --interpreter {wildcards.interpreter} {params.python}"
