"""Subinterpreters as workers: one interpreter per worker, in this process.

Since CPython 3.12 an interpreter created "isolated" has its own GIL (PEP 684),
so workers in interpreters of their own run Python code in parallel on a build
with the GIL, as processes do, without starting processes. They share the
process (its memory, file descriptors, the C runtime) but no Python objects:
each imports its own modules and has its own ``sys.modules``, and everything
that crosses from one to another is copied (PEP 734).

The public API is ``concurrent.interpreters`` from Python 3.14 on (PEP 734);
3.13 has only its preview, the low-level ``_interpreters`` module. Where
neither exists (3.12 and earlier, PyPy), :func:`unavailable` says so and the
methods built on :func:`map_in_interpreters` are left out of the grid.

This module imports nothing that a subinterpreter cannot load (numpy cannot),
and imports on Python 3.9, for the interpreters that lack both modules.
"""

from __future__ import annotations

import importlib
import marshal
import os
import platform
import sys
import threading
import types
from collections.abc import Callable, Sequence
from typing import Any

#: The interpreters modules, newest first: the public one (3.14+), then 3.13's preview.
MODULES = ("concurrent.interpreters", "_interpreters")

#: What each worker interpreter runs. ``payload`` (bytes) holds the marshalled
#: code of the function, the modules it uses and the worker's tasks; the answers
#: go back marshalled through the pipe ``fd``, which the caller closes.
WORKER_SCRIPT = """\
import builtins, importlib, marshal, types
code, modules, tasks = marshal.loads(payload)
function = types.FunctionType(code, {"__builtins__": builtins,
                                     **{name: importlib.import_module(module) for name, module in modules}})
with open(fd, "wb", closefd=False) as answers:
    answers.write(marshal.dumps([function(*task) for task in tasks]))
"""


def interpreters_module() -> str | None:
    """The name of the interpreters module this Python provides, or None."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            continue
        return name
    return None


def unavailable() -> str | None:
    """Why subinterpreters cannot run here, or None when they can."""
    if interpreters_module() is not None:
        return None
    version = ".".join(map(str, sys.version_info[:2]))
    return (f"{platform.python_implementation()} {version} has neither concurrent.interpreters (Python 3.14+)"
            " nor 3.13's preview module _interpreters")


def _used_modules(function: types.FunctionType) -> list[tuple[str, str]]:
    """(global name, module name) of every module ``function`` refers to by a global name."""
    return [(name, value.__name__) for name in function.__code__.co_names
            if isinstance(value := function.__globals__.get(name), types.ModuleType)]


def _payload(function: types.FunctionType, tasks: Sequence[tuple]) -> bytes:
    return marshal.dumps((function.__code__, _used_modules(function), list(tasks)))


def _run_in_new_interpreter(payload: bytes, fd: int) -> None:
    """Create an isolated interpreter (its own GIL), run the worker script in it, close it."""
    if interpreters_module() == "concurrent.interpreters":
        from concurrent import interpreters

        interpreter = interpreters.create()
        try:
            interpreter.prepare_main(payload=payload, fd=fd)
            interpreter.exec(WORKER_SCRIPT)  # raises ExecutionFailed
        finally:
            interpreter.close()
        return
    import _interpreters

    interpreter = _interpreters.create("isolated")
    try:
        failure = _interpreters.exec(interpreter, WORKER_SCRIPT, {"payload": payload, "fd": fd})
    finally:
        _interpreters.destroy(interpreter)
    if failure is not None:  # 3.13 returns what the interpreter raised rather than raising it
        raise RuntimeError(f"in a subinterpreter: {failure.formatted}")


def map_in_interpreters(function: Callable[..., Any], tasks: Sequence[tuple], *, workers: int) -> list[Any]:
    """``[function(*task) for task in tasks]``, spread over ``workers`` new subinterpreters.

    Worker ``k`` gets tasks ``k, k + workers, ...``; each runs in an interpreter
    of its own, created, driven and destroyed by a thread of this one, so that
    starting the interpreters is part of the work, as starting a pool is.
    ``function`` may use builtins and the modules it names as globals, nothing
    else of its module (it is rebuilt from its code); tasks and answers must be
    what :mod:`marshal` writes (numbers, strings, tuples, lists...).
    """
    reason = unavailable()
    if reason is not None:
        raise RuntimeError(reason)
    shares = [tasks[k::workers] for k in range(workers)]
    pipes = [os.pipe() for _ in shares]
    errors: list[BaseException] = []

    def drive(share: Sequence[tuple], write_end: int) -> None:
        try:
            _run_in_new_interpreter(_payload(function, share), write_end)
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)
        finally:
            os.close(write_end)  # the reader sees the end of the answers, also after a failure

    threads = [threading.Thread(target=drive, args=(share, write_end)) for share, (_, write_end) in zip(shares, pipes)]
    for thread in threads:
        thread.start()
    # Read each pipe to its end while the workers run: an answer larger than a
    # pipe's buffer would otherwise block its worker for ever.
    answers = []
    for read_end, _ in pipes:
        with open(read_end, "rb") as stream:
            answers.append(stream.read())
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    results: list[Any] = [None] * len(tasks)
    for k, answer in enumerate(answers):
        results[k::workers] = marshal.loads(answer)
    return results


def interpreter_id() -> int:
    """The id of the interpreter that runs this (0 for the main one); run inside a worker."""
    import _interpreters

    return _interpreters.get_current()[0]
