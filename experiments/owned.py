"""What a timed job leaves outside its processes, named after the job so that it can be found again.

Shared-memory segments and the private Redis server's folder carry the pid of
the job that made them (``mp-report-<pid>-...``). The job removes them when it
ends; if it was killed before it could, its sampler process removes them (it is
told of the job's death by the kernel), and any later job removes those whose
job is gone.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import List, Optional

PREFIX = "mp-report-"

#: Where each kind of thing lives: shared memory in /dev/shm, folders in the temporary folder.
SHM = Path("/dev/shm")

_OWNER = re.compile(rf"^{PREFIX}(?:[a-z]+-)?(\d+)-")


def segment_prefix(pid: Optional[int] = None) -> str:
    """Name prefix for a shared-memory segment of job ``pid`` (this process by default)."""
    return f"{PREFIX}{pid or os.getpid()}-"


def segment_name() -> str:
    """A fresh name for a shared-memory segment of this job."""
    return segment_prefix() + secrets.token_hex(6)


def folder_prefix(kind: str, pid: Optional[int] = None) -> str:
    """Prefix for a temporary folder of kind ``kind`` (e.g. ``redis``) of job ``pid``."""
    return f"{PREFIX}{kind}-{pid or os.getpid()}-"


def _candidates() -> List[Path]:
    found = []
    for folder in (SHM, Path(tempfile.gettempdir())):
        try:
            found.extend(path for path in folder.iterdir() if path.name.startswith(PREFIX))
        except OSError:
            continue
    return found


def owner(path: Path) -> Optional[int]:
    match = _OWNER.match(path.name)
    return int(match.group(1)) if match else None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except OSError:
            pass


def remove_leftovers(pid: int) -> List[Path]:
    """Remove every segment and folder of job ``pid``; returns what was removed."""
    removed = [path for path in _candidates() if owner(path) == pid]
    for path in removed:
        _remove(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to touch
        return True
    return True


def remove_stale_leftovers() -> List[Path]:
    """Remove the segments and folders of jobs that no longer run (killed before they could)."""
    stale = [path for path in _candidates() if (pid := owner(path)) is not None and not _alive(pid)
             and path.lstat().st_uid == os.getuid()]
    for path in stale:
        _remove(path)
    return stale
