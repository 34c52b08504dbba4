"""Reading workflows: a flow's hash (scripts/includes/flow.lua) and its steps' jobs.

Written only by Lua (start_workflow.lua, then complete_jobs/fail_job/remove_job through
includes/workflow.lua and flow.lua); read here for handles (pykue/workflow.py) and the
dashboard. Step ``s`` of flow ``fid`` is job ``fid + s - 1``: its ids were reserved together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast

import redis

from .keys import Keys

#: A step's status in the flow hash (field ``s:<step>``), as the dashboard names it.
STATUS = {None: "waiting", "c": "created", "d": "complete", "f": "failed", "x": "removed"}


@dataclass(frozen=True)
class Shape:
    """What a workflow returns: the results of ``exits`` (steps), one value or a list."""

    exits: list[int]
    group: bool
    kind: str

    def to_json(self) -> str:
        return json.dumps({"exits": self.exits, "group": self.group, "kind": self.kind}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Shape:
        raw = json.loads(text)
        return cls([int(s) for s in raw["exits"]], bool(raw["group"]), str(raw.get("kind", "")))


@dataclass(frozen=True)
class StepView:
    step: int
    id: int
    type: str
    state: str  # the job's Kue state; "waiting" before it exists, "removed" once removed
    parents: list[int]  # job ids
    children: list[int]  # job ids

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "id": self.id,
            "type": self.type,
            "state": self.state,
            "parents": self.parents,
            "children": self.children,
        }


@dataclass(frozen=True)
class FlowView:
    id: int
    kind: str
    steps: list[StepView]
    failed: int | None  # the job id of the first step that failed for good

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "failed": self.failed,
            "steps": [step.to_json() for step in self.steps],
        }


def step_job_id(flow_id: int, step: int) -> int:
    return flow_id + step - 1


def flow_of_job(client: redis.Redis, keys: Keys, job_id: int) -> int | None:
    """The id of the workflow job ``job_id`` is a step of (None: none)."""
    ref = cast("str | None", client.hget(keys.job(job_id), "pykue_flow"))
    if not ref or ":" not in ref:
        return None
    fid = ref.split(":", 1)[0]
    return int(fid) if fid.isdigit() else None


def read_flow(client: redis.Redis, keys: Keys, flow_id: int) -> FlowView | None:
    """The whole workflow: every step with its job's state and its links (None: removed)."""
    fields = cast("dict[str, str]", client.hgetall(keys.flow(flow_id)))
    if not fields:
        return None
    n = int(fields.get("n", "0"))
    metas = {s: json.loads(fields.get(f"m:{s}", "{}")) for s in range(1, n + 1)}
    pipe = client.pipeline(transaction=False)
    for s in range(1, n + 1):
        pipe.hmget(keys.job(step_job_id(flow_id, s)), "type", "state")
    hashes = pipe.execute()
    steps = []
    for s in range(1, n + 1):
        meta, (jtype, state) = metas[s], hashes[s - 1]
        status = STATUS.get(fields.get(f"s:{s}"), "waiting")
        spec = meta.get("spec") or [""]
        if status == "removed" or not state:  # no job (yet, or any more)
            state = "removed" if status == "removed" else "waiting"
        steps.append(
            StepView(
                step=s,
                id=step_job_id(flow_id, s),
                type=jtype or str(spec[0]),
                state=state,
                parents=[step_job_id(flow_id, int(p)) for p in meta.get("p", [])],
                children=[step_job_id(flow_id, int(c)) for c in meta.get("c", [])],
            )
        )
    failed = fields.get("failed")
    shape = Shape.from_json(fields["shape"]) if "shape" in fields else None
    return FlowView(flow_id, shape.kind if shape else "", steps, step_job_id(flow_id, int(failed)) if failed else None)


@dataclass(frozen=True)
class Outcome:
    """One look at a workflow: its first failure, and each exit's job (None before it exists)."""

    exists: bool
    failed: int | None
    exits: list[tuple[str | None, str | None, str | None]]  # (status, state, result JSON)


def poll(client: redis.Redis, keys: Keys, flow_id: int, exits: list[int]) -> Outcome:
    """The workflow's outcome so far, in one round trip."""
    pipe = client.pipeline(transaction=False)
    pipe.hmget(keys.flow(flow_id), ["n", "failed", *(f"s:{s}" for s in exits)])
    for s in exits:
        pipe.hmget(keys.job(step_job_id(flow_id, s)), "state", "result")
    replies = pipe.execute()
    head = replies[0]
    failed = step_job_id(flow_id, int(head[1])) if head[1] else None
    outcomes = [(status, state, result) for status, (state, result) in zip(head[2:], replies[1:])]
    return Outcome(head[0] is not None, failed, outcomes)
