"""Command line for one timed job: ``python -m experiments run EXPERIMENT ...``.

Snakemake calls this once per experiment and interpreter; it can be run by hand
with the same arguments. Trials stream to ``<output>.partial.jsonl`` as they
finish, so a crash loses nothing measured; the CSV appears only when every trial
is done. With ``--python``, the job runs on that interpreter instead (this
process becomes it); an interpreter that cannot run it leaves empty outputs and
a provenance file that says why, so the report notes it as skipped.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

from experiments.machine import THREAD_VARIABLES  # imports no numpy


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m experiments", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure every point of one experiment")
    run.add_argument("experiment", help="experiment name, as in experiments/registry.py")
    run.add_argument("--settings", required=True, help="the experiment's resolved settings, as JSON")
    run.add_argument("--output", required=True, type=Path, help="CSV of raw trials to write")
    run.add_argument("--provenance", required=True, type=Path, help="JSON file for the job's provenance")
    run.add_argument("--cores", required=True, type=Path, help="CSV of per-core utilisation samples (header only if none)")
    run.add_argument("--log", type=Path, help="file that gets a copy of the progress lines")
    run.add_argument("--lock-folder", type=Path, help="where the machine-wide lock lives (default: a private folder"
                     " of this user in the temporary folder); tests give their own")
    run.add_argument("--start-method", default=None, choices=["fork", "spawn", "forkserver"])
    run.add_argument("--blas-threads", type=int, default=1, help="value of the BLAS/OpenMP thread variables")
    run.add_argument("--memory-interval", type=float, default=0.2, help="seconds between memory samples; 0 for none")
    run.add_argument("--interpreter", default="main", help="the grid's name for the interpreter the job runs on")
    run.add_argument("--python", help="run the job on this Python executable instead of this one")
    run.add_argument("--python-env", action="append", default=[], metavar="NAME=VALUE",
                     help="an environment variable the --python interpreter runs under (repeatable)")
    run.add_argument("--machine-id", help="the machine id as the workflow's interpreter computes it (given to jobs on other"
                     " interpreters, whose own Python would change the fingerprint)")
    return parser.parse_args(argv)


def write_csv(path: Path, rows: list[dict], columns: Iterable[str] = ()) -> None:
    """Rows as CSV, with the union of their keys as columns (``columns`` first)."""
    names = list(dict.fromkeys([*columns, *(key for row in rows for key in row)]))
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)


def run_on_other_interpreter(args: argparse.Namespace, argv: list[str]) -> int:
    """Become ``args.python`` running this same job, or record why it cannot."""
    from experiments.cores import CORE_COLUMNS
    from experiments.harness import TRIAL_COLUMNS
    from experiments.interpreters import Unusable, child_environment, parse_env, probe
    from experiments.machine import collect_machine_info, machine_id

    env = parse_env(args.python_env)
    try:
        probe(args.python, env=env)
    except Unusable as reason:
        ProgressStream(args.log).write(f"[{args.experiment}] skipped on interpreter {args.interpreter}: {reason}\n")
        for path in (args.output, args.cores):
            path.parent.mkdir(parents=True, exist_ok=True)
        write_csv(args.output, [], TRIAL_COLUMNS)
        write_csv(args.cores, [], CORE_COLUMNS)
        info = collect_machine_info()
        args.provenance.write_text(json.dumps({
            "experiment": args.experiment, "machine_id": machine_id(info), "machine": info,
            "interpreter": {"name": args.interpreter, "executable": args.python, "env": env},
            "skipped": str(reason), "settings": json.loads(args.settings), "trials": 0, "failed_trials": 0,
        }, indent=2) + "\n")
        return 0
    at = argv.index("--python")
    rest = argv[:at] + argv[at + 2:]
    executable = shutil.which(args.python)
    sys.stderr.flush()
    os.execve(executable, [executable, "-m", "experiments", *rest, "--machine-id", machine_id()], child_environment(env))


class ProgressStream:
    """Progress lines go to the terminal and, when asked, to a log file."""

    def __init__(self, log: Path | None):
        self.log = log
        if log:
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("")

    def write(self, text: str) -> None:
        sys.stderr.write(text)
        if self.log:
            with self.log.open("a") as stream:
                stream.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


class Interrupted(BaseException):
    """SIGTERM (what SLURM and ``timeout`` send): unwinds like Ctrl-C, so every clean-up runs."""


JOB_PID = os.getpid()


def _interrupt(signum: int, frame: object) -> None:
    if os.getpid() != JOB_PID:  # a worker forked a moment ago, before it reset this handler: die as by default
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    raise Interrupted(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.python:
        return run_on_other_interpreter(args, argv)
    # Before numpy is imported: thread pools of BLAS libraries size themselves at load.
    for name in THREAD_VARIABLES:
        os.environ[name] = str(args.blas_threads)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return measure(args)
    except (Interrupted, KeyboardInterrupt) as stop:
        print(f"[{args.experiment}] interrupted ({stop or 'SIGINT'}): workers, servers and segments were removed;"
              f" the trials measured so far are in {args.output.with_suffix('.partial.jsonl')}", file=sys.stderr)
        return 130 if isinstance(stop, KeyboardInterrupt) else 143
    except OSError as error:  # a full disk, most often
        print(f"[{args.experiment}] could not write {error.filename or 'a result file'}: {error.strerror or error};"
              f" the trials measured so far are in {args.output.with_suffix('.partial.jsonl')}", file=sys.stderr)
        return 1


def measure(args: argparse.Namespace) -> int:
    """Run the job's trials under the machine-wide lock and write its outputs."""
    from experiments.cores import CORE_COLUMNS
    from experiments.harness import TRIAL_COLUMNS, run_trials
    from experiments.machine import collect_provenance
    from experiments.owned import remove_stale_leftovers
    from experiments.registry import EXPERIMENTS
    from experiments.sampler import Sampler
    from experiments.spec import unavailable_methods
    from experiments.timed_lock import holding

    experiment = EXPERIMENTS[args.experiment]
    settings = json.loads(args.settings)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    partial = args.output.with_suffix(".partial.jsonl")
    rows = []
    core_samples: list[dict] = []

    def keep(row: dict) -> None:
        rows.append(row)
        with partial.open("a") as stream:
            stream.write(json.dumps(row) + "\n")

    progress = ProgressStream(args.log)
    with holding(exclusive=True, what=experiment.name, progress=progress, base=args.lock_folder):
        for path in remove_stale_leftovers():
            print(f"[{experiment.name}] removed {path}, left by a job that was killed", file=progress)
        partial.unlink(missing_ok=True)
        provenance = collect_provenance(args.start_method, args.interpreter, args.machine_id)
        with Sampler() as sampler:
            outcome = run_trials(experiment, settings, start_method=args.start_method, on_trial=keep,
                                 on_core_samples=core_samples.extend, progress=progress,
                                 memory_interval=args.memory_interval or None, sampler=sampler)
    provenance.update(experiment=experiment.name, settings=settings, skipped=None, trials=len(rows),
                      unavailable_methods=unavailable_methods(experiment, settings),
                      failed_trials=outcome.failures, rounds=outcome.rounds, stop_reason=outcome.stop_reason,
                      unconverged=outcome.unconverged, disturbed_trials=outcome.disturbed)
    outputs = ((args.provenance, lambda: args.provenance.write_text(json.dumps(provenance, indent=2) + "\n")),
               (args.output, lambda: write_csv(args.output, rows, TRIAL_COLUMNS)),
               (args.cores, lambda: write_csv(args.cores, core_samples, CORE_COLUMNS)))
    for path, write in outputs:
        try:
            write()
        except OSError as error:  # a write to a full disk names no file: say which
            raise OSError(error.errno, error.strerror, str(path)) from None
    partial.unlink()
    if outcome.failures:
        print(f"[{experiment.name}] {outcome.failures} trial(s) gave a wrong answer or failed; see {args.output}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
