"""The machine-wide lock that keeps timed trials alone.

Timed jobs take it exclusively; the report's steps (figures, PDF) take it
shared, so that no rendering of another checkout runs beside a timed trial,
while several report steps may run together. It lives in a folder only its
user can write (``<tmp>/mp-report-<uid>/``, mode 0700, checked to be a real
folder of ours), so nobody can plant a link there or lock another user out.
While waiting, the job says which processes hold it.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterator, List, Optional, TextIO

import fasteners
import psutil


class LockFolderUnsafe(RuntimeError):
    """The lock folder exists but is not a private folder of this user."""


def lock_folder(base: Optional[Path] = None) -> Path:
    """This user's private folder for the lock, made if missing; refused if anyone else could write it."""
    folder = Path(base or tempfile.gettempdir()) / f"mp-report-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise LockFolderUnsafe(f"{folder} is not a private folder of this user (a link, another owner, or"
                               f" writable by others); remove it and start again")
    return folder


def _holders(folder: Path) -> List[str]:
    """The live processes that say they hold the lock."""
    found = []
    for path in folder.glob("holder-*"):
        pid = int(path.name.split("-", 1)[1])
        try:
            process = psutil.Process(pid)
            found.append(f"pid {pid} ({' '.join(process.cmdline()[:6])})")
        except (psutil.Error, ValueError):
            path.unlink(missing_ok=True)
    return found


@contextlib.contextmanager
def holding(*, exclusive: bool, what: str, progress: TextIO = sys.stderr,
            base: Optional[Path] = None) -> Iterator[None]:
    """Hold the lock (exclusively for timed work) for the body; say who holds it while waiting."""
    folder = lock_folder(base)
    lock = fasteners.InterProcessReaderWriterLock(str(folder / "timed-jobs.lock"))
    acquire = lock.acquire_write_lock if exclusive else lock.acquire_read_lock
    release = lock.release_write_lock if exclusive else lock.release_read_lock
    if not acquire(blocking=False):
        print(f"[{what}] waiting for the machine-wide benchmark lock ({folder}), held by:"
              f" {', '.join(_holders(folder)) or 'a process that did not say'}", file=progress, flush=True)
        acquire()
    holder = folder / f"holder-{os.getpid()}"
    holder.touch()
    try:
        yield
    finally:
        holder.unlink(missing_ok=True)
        release()
