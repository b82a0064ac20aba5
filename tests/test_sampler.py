"""The sampler process: memory and per-core use of the measured tree, seen from outside it."""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from experiments.harness import process_tree_cpu_seconds
from experiments.sampler import Sampler


def _hold_memory(megabytes: int, ready, release) -> None:
    block = np.ones(megabytes * 2**20 // 8)
    ready.set()
    release.wait(30)
    del block


def test_the_sampler_sees_a_childs_private_memory_and_is_not_part_of_the_tree():
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    with Sampler() as sampler:
        sampler.begin(0.05, None)
        child = ctx.Process(target=_hold_memory, args=(200, ready, release))
        child.start()
        assert ready.wait(30)
        time.sleep(0.3)
        release.set()
        child.join(30)
        samples = sampler.end()
    assert samples["memory_samples"] >= 2
    assert samples["peak_uss_bytes"] >= 190 * 2**20
    assert samples["peak_pss_bytes"] >= samples["peak_uss_bytes"]
    assert 190 * 2**20 <= samples["peak_worker_uss_bytes"] <= samples["peak_uss_bytes"]
    assert samples["core_samples"] == []


def test_memory_sampling_can_be_switched_off():
    with Sampler() as sampler:
        sampler.begin(None, None)
        samples = sampler.end()
    assert samples["memory_samples"] == 0 and samples["peak_pss_bytes"] is None


def _spin(seconds: float) -> int:
    end, count = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        count += 1
    return count


def test_a_gil_bound_thread_pool_cannot_starve_the_core_sampler():
    with Sampler() as sampler:
        sampler.begin(None, 0.1)
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(_spin, [1.0, 1.0]))
        samples = sampler.end()["core_samples"]
    times = sorted({t for t, _, _ in samples})
    # a sample every interval from the first on: no gap while the threads hold the GIL
    assert times[0] <= 0.15 and len(times) >= 9
    assert max(np.diff(times)) < 0.3
    busy_early = sum(percent for t, _, percent in samples if t <= 0.35)
    assert busy_early > 50  # the threads' work shows from the first samples on


def test_the_trees_cpu_time_leaves_the_sampler_out():
    with Sampler() as sampler:
        before = process_tree_cpu_seconds((sampler.pid,))
        sampler.begin(0.01, 0.01)  # sampling hard: the sampler burns CPU of its own
        time.sleep(1.0)
        sampler.end()
        used = process_tree_cpu_seconds((sampler.pid,)) - before
        assert sampler.cpu_seconds() > used
