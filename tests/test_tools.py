"""The set-up scripts: they parse, name no package server, and bring the default grid's interpreters."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import REPO

SCRIPTS = sorted((REPO / "tools").glob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_script_parses_and_names_no_address(script):
    subprocess.run(["bash", "-n", str(script)], check=True)
    # sources come through the machine's own apt and pip configuration, so a local mirror serves them too
    assert not re.search(r"\b(https?|ftp)://", script.read_text()), script.name


def test_setup_builds_the_interpreters_of_the_default_grid():
    setup = (REPO / "tools" / "setup.sh").read_text()
    build = (REPO / "tools" / "build-interpreters.sh").read_text()
    assert re.search(r"^tools/build-interpreters\.sh$", setup, re.MULTILINE)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    for name, entry in config["interpreters"].items():
        executable = entry if isinstance(entry, str) else entry["executable"]
        # every interpreter of the default grid lives in a prefix that the build script makes
        prefix = executable.split("/")[1]
        assert executable.startswith(".interpreters/") and prefix in build, name
