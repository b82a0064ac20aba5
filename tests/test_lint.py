"""The workflow by Snakemake's book: ``snakemake --lint`` has nothing to say about it."""

from __future__ import annotations

import pytest

from conftest import REPO, run_snakemake


@pytest.mark.parametrize("configfile", [None, "smoke.yaml"])
def test_snakemake_lint_reports_nothing(tmp_path, configfile):
    chosen = ["--configfile", str(REPO / "config" / configfile)] if configfile else []
    done = run_snakemake(tmp_path, "--lint", "--cores", "1", *chosen, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "Lints for" not in output, output[-5000:]
    assert "Congratulations, your workflow is in a good condition!" in output
