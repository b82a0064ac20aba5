"""Every trial has a deadline, and a worker that dies or stops fails its trial at once.

``multiprocessing.Pool.map`` waits forever for the task of a worker that was
killed (SIGKILL, out of memory) or stopped (SIGSTOP). :func:`guarded` turns
both into a failed trial:

- a timer (SIGALRM) raises :class:`TrialTimeout` in the measuring thread when
  the trial's deadline passes;
- SIGCHLD tells the job at once when one of its children was killed by a
  signal or stopped, and :class:`WorkerLost` names the worker and the signal.

Before either is raised, every process the trial started is killed (SIGKILL
works on stopped processes too), so whatever the method's own clean-up waits
for has ended. Processes that outlive a trial by design (the sampler, the
session's Redis server, multiprocessing's forkserver and resource tracker) are
spared.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from multiprocessing import forkserver, resource_tracker
from typing import Callable, Collection, Iterator, Optional

import psutil

#: The signal a pool sends its own workers when it closes: not a fault.
OWN_STOP_SIGNALS = frozenset({signal.SIGTERM})

#: Seconds the method's own clean-up may take after a fault before it is cut short too (a pool
#: whose worker died holding the task queue's lock never finishes closing).
CLEANUP_SECONDS = 5.0

#: Signals whose handlers belong to the job's main thread alone.
JOB_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGALRM)


def _default_handlers_in_child() -> None:
    # handlers first: a signal that waited for the unblocking must find the default ones
    for signum in JOB_SIGNALS:
        signal.signal(signum, signal.SIG_DFL if signum != signal.SIGINT else signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, JOB_SIGNALS)


def _block_job_signals_in_this_thread(*_: object) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, JOB_SIGNALS)
    sys.setprofile(None)


# A pool ends its workers with SIGTERM; a worker that had inherited the job's handler
# would unwind instead of dying, maybe holding a queue's lock.
os.register_at_fork(after_in_child=_default_handlers_in_child)
# The kernel hands a signal to any thread that does not block it, and only the main
# thread's blocking wait is cut short by one: were SIGCHLD to land in a pool's helper
# thread, the main thread would wait on. Every other thread blocks these signals
# (threading's profile hook is the public way to run code first in each new thread).
threading.setprofile(_block_job_signals_in_this_thread)


class TrialFault(Exception):
    """A trial that could not finish; the message says why."""


class TrialTimeout(TrialFault):
    pass


class WorkerLost(TrialFault):
    pass


def kill_descendants(spare: Collection[int] = ()) -> list:
    """SIGKILL every descendant of this process except ``spare``; reap what can be reaped."""
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    doomed = [child for child in children if child.pid not in spare]
    for child in doomed:
        with contextlib.suppress(psutil.Error):
            child.kill()
    psutil.wait_procs(doomed, timeout=5)
    return doomed


def multiprocessing_servers() -> tuple:
    """The pids of the forkserver and the resource tracker that multiprocessing started in this process.

    They serve every later trial of the job. multiprocessing waits for its
    forkserver by pid before it reuses it, so a forkserver that a fault's
    clean-up killed and reaped would fail every later forkserver trial with
    ``ChildProcessError``. (The attributes are private; a Python without them
    spares nothing more.)
    """
    pids = (getattr(forkserver._forkserver, "_forkserver_pid", None),
            getattr(resource_tracker._resource_tracker, "_pid", None))
    return tuple(pid for pid in pids if pid)


def kill_trial_processes(spare: Collection[int] = ()) -> list:
    """SIGKILL what a trial started: every descendant but ``spare`` and multiprocessing's servers."""
    return kill_descendants((*spare, *multiprocessing_servers()))


def _signal_name(number: int) -> str:
    return signal.Signals(number).name if 0 < number < signal.NSIG else str(number)


def _death(pid: int, number: int) -> str:
    hint = " (out of memory?)" if number == signal.SIGKILL else ""
    return f"worker pid {pid} was killed by {_signal_name(number)}{hint}"


#: Children that died by a signal, as the waitpid calls of this process (a pool's helper thread,
#: which reaps a dead worker at once and starts another) saw them.
REAPED_DEATHS: list = []

_waitpid = os.waitpid


def _recording_waitpid(pid: int, options: int) -> tuple:
    reaped, status = _waitpid(pid, options)
    if reaped and os.WIFSIGNALED(status) and os.WTERMSIG(status) not in OWN_STOP_SIGNALS:
        REAPED_DEATHS.append(_death(reaped, os.WTERMSIG(status)))
        if threading.current_thread() is not threading.main_thread():
            # the SIGCHLD the main thread got may have found nothing yet: tell it again
            signal.pthread_kill(threading.main_thread().ident, signal.SIGCHLD)
    return reaped, status


# multiprocessing reaps through os.waitpid; only a signal death is noted, nothing else changes
os.waitpid = _recording_waitpid


def lost_child(spare: Collection[int]) -> Optional[str]:
    """A description of a direct child that was killed by a signal or stopped, without reaping it,
    or of one that another thread reaped after such a death."""
    if REAPED_DEATHS:
        return REAPED_DEATHS[0]
    if not hasattr(os, "waitid"):  # PyPy 3.9 has none: only the reaped deaths above are seen
        return None
    try:
        children = psutil.Process().children()
    except psutil.Error:
        return None
    for child in children:
        if child.pid in spare:
            continue
        try:
            info = os.waitid(os.P_PID, child.pid, os.WEXITED | os.WSTOPPED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            continue
        if info is None:
            continue
        if info.si_code == os.CLD_STOPPED:
            return f"worker pid {child.pid} was stopped by {_signal_name(info.si_status)}"
        if info.si_code in (os.CLD_KILLED, os.CLD_DUMPED) and info.si_status not in OWN_STOP_SIGNALS:
            return _death(child.pid, info.si_status)
    return None


@contextlib.contextmanager
def guarded(deadline: float, *, spare: Collection[int] = (),
            on_fault: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Run the body with a deadline (seconds) and a watch on the children.

    Must be entered from the main thread (signals are delivered there). On a
    fault, the trial's processes are killed before the exception is raised.
    """

    faults: list = []

    def fail(fault: TrialFault) -> None:
        if faults:  # the children we kill now signal too: the first fault is the one to tell
            return
        faults.append(fault)
        # the method's clean-up gets a deadline of its own, then is cut short the same way
        signal.setitimer(signal.ITIMER_REAL, CLEANUP_SECONDS)
        kill_trial_processes(spare)
        on_fault()
        raise fault

    owner = os.getpid()

    def on_alarm(signum: int, frame: object) -> None:
        if os.getpid() != owner:  # a worker forked a moment ago: these faults are not its to raise
            return
        if faults:  # the clean-up after a fault hung as well
            raise faults[0]
        fail(TrialTimeout(f"the trial passed its deadline of {deadline:.0f} s; its processes were killed"))

    def on_child(signum: int, frame: object) -> None:
        if os.getpid() != owner:
            return
        reason = lost_child(spare)
        if reason:
            fail(WorkerLost(reason))

    REAPED_DEATHS.clear()
    previous_alarm = signal.signal(signal.SIGALRM, on_alarm)
    previous_child = signal.signal(signal.SIGCHLD, on_child)
    signal.setitimer(signal.ITIMER_REAL, deadline)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGCHLD, previous_child)
        signal.signal(signal.SIGALRM, previous_alarm)
