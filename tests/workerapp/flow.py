"""Tasks with fleet-wide limits and a schedule, for ``pykue worker -A tests.workerapp.flow``
(tests/integration/test_rate_limit.py, test_global_concurrency.py, test_schedules.py).
Runs are recorded under ``wt:`` keys as tests/workerapp/app.py does."""

from __future__ import annotations

import os
import time

from pykue import Queue

q = Queue()
_ENTER = """
local n = redis.call('INCR', KEYS[1])
if n > tonumber(redis.call('GET', KEYS[2]) or '0') then redis.call('SET', KEYS[2], n) end
return n
"""


@q.task("limited", concurrency=10, rate_limit="20/s")
def limited(n: int = 0) -> int:
    return n


@q.task("capped", concurrency=5, global_concurrency=3)
def capped(seconds: float = 0.2) -> float:
    q.client.eval(_ENTER, 2, "wt:running:capped", "wt:peak:capped")
    try:
        time.sleep(seconds)
    finally:
        q.client.decr("wt:running:capped")
    return seconds


@q.task("beat", every=float(os.environ.get("FLOW_BEAT_EVERY", "2")))
def beat() -> None:
    q.client.rpush("wt:beats", q.client.time()[0])
