"""One-byte "stop" flags that a pool's workers share, one class per mechanism.

Each store is created in the parent for one trial (a context manager that also
cleans up) and yields a *handle*: a small picklable object that reaches the
workers through the pool's initializer, never through a module global
inherited by ``fork``, so every store works under fork, spawn and forkserver.
In each process, ``handle.attach()`` returns the live flag, with ``is_set()``
and ``set()``.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import tempfile
import uuid
from collections.abc import Iterator
from multiprocessing.context import BaseContext
from multiprocessing.shared_memory import SharedMemory
from typing import Any, Protocol

from experiments.owned import folder_prefix, segment_name

FLAG_CLEAR, FLAG_SET = 0, 1


class Flag(Protocol):
    def is_set(self) -> bool: ...

    def set(self) -> None: ...


class Handle(Protocol):
    def attach(self) -> Flag: ...


# --- handles whose object is itself the flag --------------------------------------------


class ValueHandle:
    """A ``Manager().Value`` proxy or a ``multiprocessing.RawValue``, both read through ``.value``.

    Each read of the proxy is a round trip to the manager process; a RawValue
    is one byte of shared memory, read without a lock.
    """

    def __init__(self, value: Any):
        self.value = value

    def attach(self) -> ValueHandle:
        return self

    def is_set(self) -> bool:
        return self.value.value == FLAG_SET

    def set(self) -> None:
        self.value.value = FLAG_SET


class EventHandle:
    """A ``multiprocessing.Event``: a flag built on a semaphore and a condition."""

    def __init__(self, event: Any):
        self.event = event

    def attach(self) -> EventHandle:
        return self

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()


# --- handles that open their flag anew in each process ----------------------------------


class _ByteFlag:
    """A flag that is the first byte of a writable buffer (an mmap or a memoryview)."""

    def __init__(self, buffer: Any, keep: Any = None):
        self.buffer = buffer
        self._keep = keep  # the object that owns the mapping must outlive the buffer

    def is_set(self) -> bool:
        return self.buffer[0] == FLAG_SET

    def set(self) -> None:
        self.buffer[0] = FLAG_SET


class MmapHandle:
    """One byte of a file in a private folder, mapped by each process.

    The book maps an anonymous region, which only forked children share; a file
    (on tmpfs where there is one) can be mapped by a spawned process too.
    """

    def __init__(self, path: str):
        self.path = path

    def attach(self) -> _ByteFlag:
        with open(self.path, "r+b") as stream:
            return _ByteFlag(mmap.mmap(stream.fileno(), 1))


class SharedMemoryHandle:
    """A one-byte ``multiprocessing.shared_memory.SharedMemory`` block, found by name."""

    def __init__(self, name: str):
        self.name = name

    def attach(self) -> _ByteFlag:
        # The creating process's resource tracker, which the pool's workers
        # share, unlinks the block; attaching registers the same name again,
        # which that tracker ignores.
        block = SharedMemory(self.name)
        return _ByteFlag(block.buf, keep=block)


class RedisHandle:
    """A key on the private redis-server; each process opens its own client."""

    def __init__(self, socket: str, key: str):
        self.socket, self.key = socket, key

    def attach(self) -> RedisFlag:
        from experiments.redis_server import connect  # only workers that use Redis import it

        return RedisFlag(connect(self.socket), self.key)


class RedisFlag:
    def __init__(self, client: Any, key: str):
        self.client, self.key = client, key

    def is_set(self) -> bool:
        return self.client.get(self.key) == b"%d" % FLAG_SET

    def set(self) -> None:
        self.client.set(self.key, FLAG_SET)


# --- the stores: create, hand out, clean up ------------------------------------------------


def _tmpfs() -> str | None:
    """A memory-backed folder for the mmap file where the system has one."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@contextlib.contextmanager
def open_flag(kind: str, ctx: BaseContext, *, redis_socket: str | None = None) -> Iterator[Handle]:
    """A cleared flag of ``kind`` for one trial; everything it created is removed afterwards.

    Parameters
    ----------
    kind
        ``manager``, ``redis``, ``rawvalue``, ``mmap``, ``event`` or ``shared_memory``.
    ctx
        The multiprocessing context of the pool (the manager process starts with it too).
    redis_socket
        Socket of the redis-server, for ``redis``.
    """
    if kind == "manager":
        with ctx.Manager() as manager:
            yield ValueHandle(manager.Value("b", FLAG_CLEAR))
    elif kind == "rawvalue":
        yield ValueHandle(ctx.RawValue("b", FLAG_CLEAR))
    elif kind == "event":
        yield EventHandle(ctx.Event())
    elif kind == "mmap":
        with tempfile.TemporaryDirectory(prefix=folder_prefix("flag"), dir=_tmpfs()) as folder:
            path = os.path.join(folder, "flag")
            with open(path, "wb") as stream:
                stream.write(bytes([FLAG_CLEAR]))
            yield MmapHandle(path)
    elif kind == "shared_memory":
        block = SharedMemory(create=True, size=1, name=segment_name())
        try:
            block.buf[0] = FLAG_CLEAR
            yield SharedMemoryHandle(block.name)
        finally:
            block.close()
            block.unlink()
    elif kind == "redis":
        handle = RedisHandle(redis_socket, f"prime-flag-{uuid.uuid4().hex}")
        client = handle.attach().client
        client.set(handle.key, FLAG_CLEAR)
        try:
            yield handle
        finally:
            client.delete(handle.key)
            client.close()
    else:
        raise ValueError(f"unknown kind of flag: {kind!r}")
