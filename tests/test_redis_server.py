"""The private redis-server: reachable only through its socket, gone afterwards."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from experiments import redis_server


def _redis_servers() -> set[int]:
    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"}


def test_private_server_answers_on_its_socket_and_is_removed_afterwards():
    before = _redis_servers()
    with redis_server.private_redis() as resources:
        socket = Path(resources["redis_socket"])
        client = redis_server.connect(str(socket))
        assert client.incr("counter") == 1
        assert client.config_get("port")["port"] == "0"  # no TCP listener
        started = _redis_servers() - before
        assert len(started) == 1
    assert not socket.parent.exists()
    assert not (_redis_servers() & started)


def test_server_is_stopped_when_the_work_fails():
    before = _redis_servers()
    with pytest.raises(ZeroDivisionError):
        with redis_server.private_redis() as resources:
            socket = Path(resources["redis_socket"])
            1 / 0
    assert not socket.parent.exists()
    assert _redis_servers() == before


def test_missing_server_gives_one_clear_message(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    with pytest.raises(redis_server.RedisUnavailable, match="redis-server is not installed: install it with tools/setup.sh"):
        with redis_server.private_redis():
            pass
