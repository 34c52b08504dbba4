"""pykue adapter: the Celery-style API, ``pykue worker -A pykue_ --concurrency C --processes N``.

The run sets its settings through the environment (bench/systems/__init__.py, ``Variant``):
``BENCH_CONCURRENCY`` (default 10), ``BENCH_TASK_KIND=async`` for an ``async def`` task doing
the same write with ``redis.asyncio``, and ``BENCH_WORKER_FLAGS`` for extra worker options
(the tuned rows, say ``--pin-cpu``).

Runs in the project's own .venv against the working tree. Until pykue's worker lands, the
import below fails and run.py reports pykue as n/a; ``lua_transition`` works regardless.
"""

from __future__ import annotations

import os

from _bench import TASK_TYPES, URL, arecord, bin_path, record

HERE = os.path.dirname(os.path.abspath(__file__))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY") or 10)
ASYNC = os.environ.get("BENCH_TASK_KIND") == "async"
FLAGS = os.environ.get("BENCH_WORKER_FLAGS", "").split()
PREFIX = "q"

INFO = {
    "config": f"pykue worker --concurrency {CONCURRENCY} --processes N {' '.join(FLAGS + [''])}--loglevel warning "
    + ("(async def tasks, redis.asyncio, on uvloop where installed)" if ASYNC else "(threads for def tasks)"),
    "bulk": "task.delay_many (create_many: one round trip per call, pipelined scripts of 250 jobs)",
    "multiprocess": True,
    "types": "10 tasks, Kue's per-type lists",
    "completed_key": f"{PREFIX}:jobs:complete",  # W2n counts completions here
}


def lua_transition() -> dict:
    """W4's Lua scripts: pykue's own save transition (one job per call), and a minimal
    stand-in doing the same Kue-layout writes (no validation, no event JSON) as a yardstick."""
    return {"transitions": [_pykue_save(), _stand_in()]}


def _pykue_save() -> dict | None:
    try:
        from pykue.keys import Keys
        from pykue.lua import source

        k = Keys(PREFIX)
        return {
            "label": "pykue save_jobs.lua, one job",
            "source": source("save_jobs"),
            "keys": [k.base, k.ids, k.types, k.jobs, k.state("inactive"), k.state("delayed"), k.events],
            # now, then one job: type, data, priority, attempts, delay, ttl, backoff, removeOnComplete,
            # unique key, unique for, keep complete, keep failed, n_words
            "args": ["1700000000000", "task0", '{"i":__rand_int__}', "0", "1", "0", "0", "", "", "", "0", "", "", "0"],
        }
    except (ImportError, OSError):
        return None


def _stand_in() -> dict:
    return {
        "label": "minimal Kue-layout save (bench/systems/pykue_transition.lua)",
        "source": open(os.path.join(HERE, "pykue_transition.lua")).read(),
        "keys": [
            f"{PREFIX}:ids",
            f"{PREFIX}:jobs",
            f"{PREFIX}:jobs:inactive",
            f"{PREFIX}:jobs:task0:inactive",
            f"{PREFIX}:task0:jobs",
            f"{PREFIX}:job:types",
        ],
        "args": [PREFIX, "task0", '{"i":__rand_int__}', "0", "1700000000000"],
    }


try:
    import pykue
    from pykue import Queue

    INFO["version"] = pykue.__version__
    queue = Queue(redis=URL, prefix=PREFIX)
    _conn = None
    _aconn = None

    def _client():
        global _conn
        if _conn is None:
            import redis

            _conn = redis.Redis.from_url(URL)
        return _conn

    def _aclient():
        global _aconn
        if _aconn is None:
            import redis.asyncio

            _aconn = redis.asyncio.Redis.from_url(URL)
        return _aconn

    def _make(name):
        def body(i, t=None):
            record(_client(), i, t)

        async def abody(i, t=None):
            await arecord(_aclient(), i, t)

        fn = abody if ASYNC else body
        fn.__name__ = fn.__qualname__ = name
        return queue.task(name, concurrency=CONCURRENCY)(fn)

    for _name in TASK_TYPES:
        globals()[_name] = _make(_name)

    def enqueue(i, t=None):
        if t is None:
            task0.delay(i=i)  # noqa: F821 (defined in the loop above)
        else:
            task0.delay(i=i, t=t)  # noqa: F821

    def enqueue_bulk(items):
        task0.delay_many([{"i": i} for i in items])  # noqa: F821

    def worker_argv(processes):
        return [
            [
                bin_path("pykue"),
                "worker",
                "-A",
                "pykue_",
                "--redis",
                URL,
                "--prefix",
                PREFIX,
                "--concurrency",
                str(CONCURRENCY),
                "--processes",
                str(processes),
                *FLAGS,
                "--loglevel",
                "warning",
            ]
        ]
except Exception as exc:  # pykue's API is not there yet: report it, keep lua_transition usable
    _error = f"{type(exc).__name__}: {exc}"

    def worker_argv(processes):
        raise RuntimeError(f"pykue is not usable yet: {_error}")
