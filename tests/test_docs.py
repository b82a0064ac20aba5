"""The README says what the code does: its two commands, CI, and the tidy table's columns."""

from __future__ import annotations

import re

from conftest import REPO
from report.load import EXTRA_COLUMNS, TIDY_COLUMNS

README = (REPO / "README.md").read_text()


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    assert blocks[0] == "tools/setup.sh && .venv/bin/snakemake --cores 4"
    test_command = blocks[1]
    assert "pytest" in test_command
    ci = [line for line in (REPO / ".ci" / "run").read_text().splitlines() if line and not line.startswith(("#", "set ", "cd "))]
    assert ci == [test_command]


def test_readme_documents_every_tidy_column_as_the_code_does():
    documented = dict(re.findall(r"^\| `([a-z_]+)` \| (.+?) \|$", README.split("The columns of `trials.csv`")[1], flags=re.M))
    # an experiment's own columns as its family module declares them: meaning, unit and the experiments that have it
    expected = {**TIDY_COLUMNS, **EXTRA_COLUMNS}
    assert list(documented) == list(expected)
    for column, meaning in expected.items():
        assert documented[column].replace("`", "") == meaning, column


def test_every_experiment_says_in_words_what_a_right_answer_is():
    from experiments.registry import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        assert len(experiment.answer_check) > 20, experiment.name
