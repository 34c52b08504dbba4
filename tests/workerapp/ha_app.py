"""The task the failover tests run: ``pykue worker -A tests.workerapp.ha_app``. It touches no
key of its own: on a Redis Cluster, the queue's client serves only the queue's slot."""

from __future__ import annotations

from pykue import Queue

queue = Queue(prefix="{ha}")


@queue.task("ha", concurrency=20)
def ha(n: int) -> int:
    return n
