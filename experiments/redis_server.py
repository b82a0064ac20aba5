"""A private ``redis-server`` for the experiments that share state through Redis.

It listens on a Unix socket in a fresh temporary folder (no TCP port, so it
cannot clash with, or be reached by, anything else), keeps nothing on disk, and
is shut down and its folder removed when the context ends, also on failure. The
kernel ends it if the job dies without a chance to (``PR_SET_PDEATHSIG``), and
the folder, named after the job, is removed by the job's sampler or the next
job (:mod:`experiments.owned`).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from experiments.owned import folder_prefix
from experiments.sampler import die_with_parent

if TYPE_CHECKING:
    import redis

INSTALL_HINT = "install it with tools/setup.sh (or: sudo apt-get install redis-server)"


class RedisUnavailable(RuntimeError):
    """redis-server is missing or did not start."""


@contextlib.contextmanager
def private_redis(settings: Mapping[str, Any] | None = None, *, start_timeout: float = 10.0) -> Iterator[dict[str, str]]:
    """Run a private redis-server; yield ``{"redis_socket": path}`` for the methods.

    The signature fits :attr:`experiments.spec.Experiment.session`.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        raise RedisUnavailable(f"redis-server is not installed: {INSTALL_HINT}")
    folder = Path(tempfile.mkdtemp(prefix=folder_prefix("redis")))
    socket = folder / "redis.sock"
    server = subprocess.Popen(
        [executable, "--port", "0", "--unixsocket", str(socket), "--unixsocketperm", "700",
         "--save", "", "--appendonly", "no", "--dir", str(folder), "--loglevel", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,  # a job killed with SIGKILL takes its server with it
    )
    try:
        _wait_until_ready(server, socket, start_timeout)
        yield {"redis_socket": str(socket)}
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_ready(server: subprocess.Popen, socket: Path, timeout: float) -> None:
    import redis  # see connect

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RedisUnavailable(f"redis-server exited at start (code {server.returncode}): {server.stderr.read().strip()}")
        if socket.exists():
            try:
                if redis.Redis(unix_socket_path=str(socket)).ping():
                    return
            except redis.ConnectionError:
                pass
        time.sleep(0.02)
    raise RedisUnavailable(f"redis-server did not answer on {socket} within {timeout:.0f} s")


def connect(redis_socket: str) -> redis.Redis:
    """A client of the private server (one per process: clients do not survive fork)."""
    # imported here: workers that a spawn or forkserver start imports this module for need no redis-py
    import redis

    return redis.Redis(unix_socket_path=redis_socket)


def redis_session(method: str) -> Callable[[Mapping[str, Any]], contextlib.AbstractContextManager[dict[str, Any]]]:
    """An experiment session that starts a private redis-server when ``method`` is measured.

    It yields ``redis_socket`` (None without a server) and ``redis_problem`` (why
    there is none, else ""). A server that cannot start fails only ``method``'s
    trials, with that reason; every other method is still measured.
    """

    @contextlib.contextmanager
    def session(settings: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        if method not in settings["methods"]:
            yield {"redis_socket": None, "redis_problem": f"{method} is not measured"}
            return
        with contextlib.ExitStack() as stack:
            try:
                resources = {**stack.enter_context(private_redis(settings)), "redis_problem": ""}
            except RedisUnavailable as problem:
                print(f"redis-server unavailable, the {method} method's trials will fail: {problem}", file=sys.stderr)
                resources = {"redis_socket": None, "redis_problem": str(problem)}
            yield resources

    session.__name__ = f"redis_for_{method}"
    return session
