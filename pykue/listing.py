"""A state's job list and the state counts read together, so that they agree.

The dashboard polls them at once: the ranks and the five counts are read in one MULTI (a
single moment of Redis), then the jobs' hashes. A job that left the state in between is
dropped from the list *and* from its state's count, so the page never shows a row that its
count leaves out (or the reverse), whichever job finishes while it polls.
"""

from __future__ import annotations

from typing import NamedTuple, cast

from .job import Job
from .keys import strip_zid
from .queue import Queue
from .states import STATES


class Listing(NamedTuple):
    jobs: list[Job]
    counts: dict[str, int]  # every state, all types
    total: int  # jobs of the listed state (and type), as the list sees them


def list_with_counts(queue: Queue, state: str, job_type: str | None, start: int, stop: int, order: str) -> Listing:
    keys = queue.keys
    index = keys.type_state(job_type, state) if job_type else keys.state(state)
    pipe = queue.client.pipeline(transaction=True)
    pipe.zrange(index, start, stop)
    pipe.zcard(index)
    for name in STATES:
        pipe.zcard(keys.state(name))
    members, count, *totals = pipe.execute()
    counts = dict(zip(STATES, (int(n) for n in totals)))
    ids = [strip_zid(m) for m in cast("list[str]", members)]
    found = {job.id: job for job in queue.get_jobs(ids)}
    kept = [found[i] for i in ids if i in found and found[i].state == state]
    gone = len(ids) - len(kept)
    counts[state] -= gone
    jobs = sorted(kept, key=lambda job: job.id, reverse=order == "desc")
    return Listing(jobs, counts, int(count) - gone)
