"""When a pinned worker gives its CPU up: the decision, from each CPU's idle share."""

from __future__ import annotations

from pykue.worker.affinity import contested


def test_a_saturated_cpu_beside_an_idle_one_is_contested():
    # tasks running C threads in parallel, or a busy neighbour: CPU 0 full, CPU 1 has room
    assert contested(0, {0: 0.01, 1: 0.6}) == 0.6


def test_a_worker_waiting_on_redis_leaves_its_cpu_idle_part_of_the_time():
    # a busy queue alone: the pinned CPU is idle while replies are awaited
    assert contested(0, {0: 0.25, 1: 0.9}) is None


def test_when_every_cpu_is_busy_moving_would_gain_nothing():
    assert contested(1, {0: 0.1, 1: 0.0}) is None


def test_one_cpu_alone_is_never_contested():
    assert contested(0, {0: 0.0}) is None
