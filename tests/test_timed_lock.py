"""The machine-wide lock: private to its user, never through a planted link, and it says who holds it."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from experiments.timed_lock import LockFolderUnsafe, holding, lock_folder
from tests.conftest import REPO


def test_the_lock_folder_is_private(tmp_path):
    folder = lock_folder(tmp_path)
    assert folder.name == f"mp-report-{os.getuid()}"
    assert folder.stat().st_mode & 0o777 == 0o700


def test_a_planted_link_or_an_open_folder_is_refused(tmp_path):
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (tmp_path / f"mp-report-{os.getuid()}").symlink_to(target)
    with pytest.raises(LockFolderUnsafe, match="not a private folder"):
        lock_folder(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / f"mp-report-{os.getuid()}").mkdir(mode=0o777)
    os.chmod(other / f"mp-report-{os.getuid()}", 0o777)
    with pytest.raises(LockFolderUnsafe):
        lock_folder(other)


HOLD = """
import sys, time
from experiments.timed_lock import holding
with holding(exclusive={exclusive}, what="holder", base=sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_in_another_process(tmp_path, *, exclusive: bool, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD.format(exclusive=exclusive), str(tmp_path), str(seconds)],
                              cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_waiting_timed_job_names_the_holder_and_gets_the_lock_after_it(tmp_path):
    holder = hold_in_another_process(tmp_path, exclusive=True, seconds=1.0)
    said = io.StringIO()
    with holding(exclusive=True, what="job", progress=said, base=tmp_path):
        assert holder.poll() is not None  # only once the holder let go
    assert f"held by: pid {holder.pid}" in said.getvalue()


def test_report_steps_share_the_lock_but_a_timed_job_waits_for_them(tmp_path):
    reader = hold_in_another_process(tmp_path, exclusive=False, seconds=1.0)
    said = io.StringIO()
    with holding(exclusive=False, what="another report step", progress=said, base=tmp_path):
        assert reader.poll() is None  # two readers at once
    assert said.getvalue() == ""
    with holding(exclusive=True, what="job", progress=said, base=tmp_path):
        assert reader.poll() is not None
    assert "waiting for the machine-wide benchmark lock" in said.getvalue()
