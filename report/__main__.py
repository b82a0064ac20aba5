"""Command line for the report steps, one per Snakemake rule:

``collect``  raw trial CSVs → tidy ``trials.csv``, ``cores.csv`` and ``run.json``
``analyze``  tidy table → ``summary.csv``, ``book_comparison.csv``, ``claims.csv``, ``quality.json``
``figures``  summaries → SVG figures
``html``     summaries + figures + templates → ``report.html``
``compare``  several machines' runs → ``compare.html``
``pdf``      an HTML report → its PDF
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m report", description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)

    collect = steps.add_parser("collect", help="raw trials → tidy table")
    collect.add_argument("--trials", nargs="+", type=Path, required=True)
    collect.add_argument("--provenance", nargs="+", type=Path, required=True)
    collect.add_argument("--cores", nargs="+", type=Path, required=True, help="per-core samples of each job")
    collect.add_argument("--tidy", type=Path, required=True)
    collect.add_argument("--cores-output", type=Path, required=True)
    collect.add_argument("--run", type=Path, required=True)

    analyze = steps.add_parser("analyze", help="tidy table → summaries")
    analyze.add_argument("--tidy", type=Path, required=True)
    analyze.add_argument("--config", type=Path, required=True, help="the run's configuration, as JSON")
    analyze.add_argument("--summary", type=Path, required=True)
    analyze.add_argument("--comparison", type=Path, required=True)
    analyze.add_argument("--quality", type=Path, required=True, help="JSON of run-wide quality checks")
    analyze.add_argument("--run", type=Path, required=True, help="the run's provenance (run.json)")
    analyze.add_argument("--claims", type=Path, required=True, help="CSV of the book's claims tested on our data")

    figures = steps.add_parser("figures", help="summaries → SVG figures")
    figures.add_argument("--summary", type=Path, required=True)
    figures.add_argument("--comparison", type=Path, required=True)
    figures.add_argument("--run", type=Path, required=True)
    figures.add_argument("--cores", type=Path, required=True, help="per-core samples (cores.csv)")
    figures.add_argument("--config", type=Path, required=True)
    figures.add_argument("--folder", type=Path, required=True)
    figures.add_argument("names", nargs="*", help="the figures to draw (default: every figure the configuration has)")

    html = steps.add_parser("html", help="summaries and figures → report.html")
    html.add_argument("--quality", type=Path, required=True)
    html.add_argument("--claims", type=Path, required=True)
    html.add_argument("--summary", type=Path, required=True)
    html.add_argument("--comparison", type=Path, required=True)
    html.add_argument("--run", type=Path, required=True)
    html.add_argument("--config", type=Path, required=True)
    html.add_argument("--figures", type=Path, required=True, help="the folder of the figures (SVG)")
    html.add_argument("--output", type=Path, required=True)

    compare = steps.add_parser("compare", help="several machines' runs → compare.html")
    compare.add_argument("--runs", type=Path, nargs="+", required=True, help="results/<machine>/<run_name> folders")
    compare.add_argument("--output", type=Path, required=True)

    pdf = steps.add_parser("pdf", help="report.html → report.pdf")
    pdf.add_argument("--html", type=Path, required=True)
    pdf.add_argument("--attach", type=Path, nargs="*", default=[], help="data files the PDF carries")
    pdf.add_argument("--output", type=Path, required=True)
    return parser.parse_args(argv)


#: Steps heavy enough to disturb a timed trial of another checkout: they wait while one runs.
HEAVY_STEPS = ("figures", "html", "compare", "pdf")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.step in HEAVY_STEPS:
        from experiments.timed_lock import holding

        with holding(exclusive=False, what=f"report {args.step}"):
            return run_step(args)
    return run_step(args)


def run_step(args: argparse.Namespace) -> int:
    if args.step == "pdf":
        return pdf_step(args)
    from report.load import primary, read_table

    if args.step == "collect":
        from report.load import RawDataError, read_core_samples, read_run, read_trials

        # every file is read and checked before any output is written: a bad one leaves none half-made
        try:
            tidy = read_trials(args.trials, args.provenance)
            cores = read_core_samples(args.cores)
            run = read_run(args.provenance)
        except RawDataError as error:
            print(f"python -m report collect: {error}", file=sys.stderr)
            return 1
        tidy.to_csv(args.tidy, index=False)
        cores.to_csv(args.cores_output, index=False)
        args.run.write_text(json.dumps(run, indent=2) + "\n")
    elif args.step == "analyze":
        from report.analysis import (AnalysisSettings, convergence_record, disturbance_record, overlapping_trials,
                                     summarize)
        from report.book import compare_with_book
        from report.claims import evaluate_claims

        from report.load import check_schema

        config = json.loads(args.config.read_text())
        run = json.loads(args.run.read_text())
        check_schema(run, args.tidy.parent)
        tidy = read_table(args.tidy)
        settings = AnalysisSettings.from_config(config["analysis"], precision=config.get("precision", 0.03))
        summary = summarize(tidy, settings, usable_cpus=run["machine"]["usable_cpus"])
        overlaps = overlapping_trials(tidy)
        quality = {"overlapping_trials": len(overlaps),
                   "disturbance": disturbance_record(tidy, run["machine"]["usable_cpus"]),
                   "convergence": convergence_record(run)}
        args.quality.write_text(json.dumps(quality, indent=2) + "\n")
        summary.to_csv(args.summary, index=False)
        compare_with_book(primary(summary)).to_csv(args.comparison, index=False)
        # the interpreter claims compare interpreters, each under its job's own start method
        own_start = tidy[tidy["start_method"] == tidy["job_start_method"]]
        evaluate_claims(primary(tidy), run["machine"], settings, every_interpreter=own_start).to_csv(
            args.claims, index=False)
    elif args.step == "figures":
        from report.figures import FigureInputs, draw_figures, figures_for

        run = json.loads(args.run.read_text())
        config = json.loads(args.config.read_text())
        summary = read_table(args.summary)
        inputs = FigureInputs(
            summary=primary(summary),
            axes_summary=summary,
            comparison=read_table(args.comparison),
            cpus=run["machine"]["usable_cpus"],
            darts=config["report"]["darts"],
            core_samples=read_table(args.cores),
            smallest_factor_bound=config["report"]["smallest_factor_bound"],
            confidence=config["analysis"]["confidence"],
        )
        draw_figures(inputs, args.names or figures_for(config["experiments"]), args.folder)
    elif args.step == "html":
        from report.book import book_metadata
        from report.render import build_context, render_html

        summary = read_table(args.summary)
        context = build_context(
            summary=primary(summary),
            axes_summary=summary,
            comparison=read_table(args.comparison),
            claims=read_table(args.claims),
            quality=json.loads(args.quality.read_text()),
            run=json.loads(args.run.read_text()),
            config=json.loads(args.config.read_text()),
            figures_dir=args.figures,
            figure_names=sorted(path.stem for path in args.figures.glob("*.svg")),
            book_meta=book_metadata(),
        )
        render_html(context, args.output)
    elif args.step == "compare":
        from report.render import render_compare_html

        render_compare_html(args.runs, args.output)
    return 0


def pdf_step(args: argparse.Namespace) -> int:
    """``pdf``, which imports WeasyPrint alone (not pandas: half a second)."""
    from report.pdf import render_pdf

    # WeasyPrint makes millions of objects that all live until the PDF is written: the cyclic garbage
    # collector's passes over them took a third of this step and freed nothing (the peak memory is the same
    # without them). Off here, it is off in the workers forked from here (report/pdf.py) too. Frozen
    # afterwards, the objects are not traversed once more as the process exits.
    gc.disable()
    try:
        render_pdf(args.html, args.output, args.attach)
    except ValueError as error:
        print(f"python -m report pdf: {args.html}: {error}", file=sys.stderr)
        return 1
    gc.freeze()
    return 0


if __name__ == "__main__":
    sys.exit(main())
