"""Workflows, Celery's canvas over Kue jobs: signatures, ``chain``, ``group``, ``chord``.

A signature (``add.s(2, 2)``) is a task and its arguments, not yet saved. ``delay()`` on a
chain, group or chord starts a workflow in one Lua call (start_workflow.lua): it reserves a
job id for every step, creates the steps that wait for nothing, and stores the others' job
arguments and links in the flow's hash. Each later step is created by the Lua call that
completes its last parent (includes/workflow.lua), so no link is lost with a worker, and a
chord's callback is created once. Every step is an ordinary Kue job of its task's type.

Results travel as in Celery: a step's parent's result becomes its first positional argument
(``add.s(4)`` after a step that returned 4 runs ``add(4, 4)``), a list of results in order
after a group (a chord's callback); ``.si()`` signatures take none. Results are spliced into
the stored data as the JSON text the worker wrote: Python prepares the data around the gap.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast

from .exceptions import InvalidJobError, PykueError
from .job_hash import dumps, now_ms
from .workflow import WorkflowHandle
from .workflow_store import Shape

if TYPE_CHECKING:
    from .draft import JobDraft
    from .job import Job

__all__ = ["Chain", "Chord", "Group", "Signature", "chain", "chord", "group"]


class SignedTask(Protocol):
    """What a signature uses of its task (``pykue.Task``, which sits above this module)."""

    @property
    def type(self) -> str: ...

    @property
    def queue(self) -> Any: ...

    def build(self, *args: Any, **kwargs: Any) -> JobDraft: ...

    def step_draft(self, args: Sequence[Any], kwargs: Mapping[str, Any], result_first: bool) -> JobDraft: ...

    def with_options(self, **options: Any) -> Any: ...

    def delay(self, *args: Any, **kwargs: Any) -> Job: ...


@dataclass(frozen=True)
class Signature:
    """A task and its arguments: ``task.s(...)`` (takes its parent's result first) or
    ``task.si(...)`` (immutable: takes none)."""

    task: SignedTask
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    immutable: bool = False

    def __post_init__(self) -> None:
        if not self.immutable and "args" in self.kwargs:
            raise InvalidJobError(
                "kwargs", sorted(self.kwargs), '"args" holds positional arguments: use .si() or pass them positionally'
            )

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.task.type}.{'si' if self.immutable else 's'}({', '.join(parts)})"

    def with_options(self, **options: Any) -> Signature:
        """The same call with other job options (priority, attempts, ttl, delay, backoff, ...)."""
        return Signature(self.task.with_options(**options), self.args, self.kwargs, self.immutable)

    def delay(self) -> Job:
        """Save it alone, as ``task.delay(*args, **kwargs)`` would."""
        return self.task.delay(*self.args, **self.kwargs)

    def __or__(self, other: Canvas) -> Chain:
        return chain(self, other)


class _Workflow:
    """What chains, groups and chords share: ``delay()`` starts one, ``|`` chains it."""

    kind: ClassVar[str] = ""

    def delay(self) -> WorkflowHandle:
        return start(cast("Canvas", self), self.kind)

    def __or__(self, other: Canvas) -> Chain:
        return chain(cast("Canvas", self), other)


@dataclass(frozen=True)
class Chain(_Workflow):
    items: tuple[Canvas, ...]
    kind: ClassVar[str] = "chain"


@dataclass(frozen=True)
class Group(_Workflow):
    items: tuple[Canvas, ...]
    kind: ClassVar[str] = "group"


@dataclass(frozen=True)
class Chord(_Workflow):
    header: Group
    body: Canvas
    kind: ClassVar[str] = "chord"


Canvas = Signature | Chain | Group | Chord


def chain(*items: Canvas) -> Chain:
    """Run ``items`` one after another; each takes the result of the one before."""
    return Chain(_members("chain", items))


def group(*items: Canvas) -> Group:
    """Run ``items`` in parallel; the group's result is the list of theirs, in order."""
    if len(items) == 1 and not isinstance(items[0], (Signature, Chain, Group, Chord)):
        items = tuple(items[0])  # group(sig for ...) or group([...]), as Celery takes them
    return Group(_members("group", items))


def chord(header: Group | Any, body: Canvas) -> Chord:
    """Run ``header`` (a group, or its members) in parallel, then ``body`` once, with the
    list of their results in order."""
    members = header if isinstance(header, Group) else group(*header)
    return Chord(members, _members("chord", (body,))[0])


def _members(kind: str, items: Any) -> tuple[Canvas, ...]:
    members: tuple[Canvas, ...] = tuple(items)
    if not members:
        raise InvalidJobError(kind, members, "needs at least one signature")
    for item in members:
        if not isinstance(item, (Signature, Chain, Group, Chord)):
            raise InvalidJobError(kind, item, "expected signatures (task.s(...)), chains, groups or chords")
    return members


# -- compiling a canvas into steps ------------------------------------------------------------


@dataclass
class _Step:
    sig: Signature
    parents: list[int]  # step numbers, from 1
    takes: str  # what its data gets of its parents' results: "one", "all" (a list) or "none"
    children: list[int] = field(default_factory=list)
    keep: bool = False  # a child takes a list of results: this step's is kept for it


def _compile(node: Canvas, parents: list[int], fan_in: bool, steps: list[_Step]) -> tuple[list[int], bool]:
    """Append ``node``'s steps after ``parents`` (a group's exits when ``fan_in``); returns its
    exits and whether they are a group's."""
    if isinstance(node, Signature):
        number = len(steps) + 1
        takes = "none" if not parents or node.immutable else ("all" if fan_in else "one")
        steps.append(_Step(node, list(parents), takes))
        for p in parents:
            steps[p - 1].children.append(number)
            steps[p - 1].keep = steps[p - 1].keep or takes == "all"
        return [number], False
    if isinstance(node, Chain):
        for item in node.items:
            parents, fan_in = _compile(item, parents, fan_in, steps)
        return parents, fan_in
    if isinstance(node, Group):
        exits: list[int] = []
        for item in node.items:
            exits += _compile(item, parents, fan_in, steps)[0]
        return exits, True
    exits, _ = _compile(node.header, parents, fan_in, steps)
    return _compile(node.body, exits, True, steps)


def _data_around(sig: Signature) -> tuple[str, str]:
    """The step's data JSON split where its parents' result goes (``args[0]``)."""
    marker = f"pykue-result-{uuid.uuid4().hex}"
    data = dict(sig.kwargs)
    data["args"] = [marker, *sig.args]
    before, _, after = dumps(data).partition(dumps(marker))
    return before, after


def _step_args(step: _Step) -> list[Any]:
    """start_workflow.lua's arguments for one step: its links, then its job or its type."""
    draft = step.sig.task.step_draft(step.sig.args, step.sig.kwargs, result_first=step.takes != "none")
    job = draft.encode()  # validates the call's data and options: nothing is written if one fails
    meta: dict[str, Any] = {"p": step.parents, "c": step.children}
    if step.keep:
        meta["keep"] = True
    if not step.parents:
        return [dumps(meta), 0, *job]
    meta["mode"] = step.takes
    meta["pre"], meta["suf"] = (job[1], "") if step.takes == "none" else _data_around(step.sig)
    meta["spec"] = [str(value) for value in (job[0], "", *job[2:])]
    return [dumps(meta), len(step.parents), job[0]]


def start(canvas: Canvas, kind: str) -> WorkflowHandle:
    """Start ``canvas`` as one workflow: every step's job id reserved, the first steps queued."""
    steps: list[_Step] = []
    exits, fan_in = _compile(canvas, [], False, steps)
    queue = steps[0].sig.task.queue
    if any(step.sig.task.queue is not queue for step in steps):
        raise InvalidJobError(kind, canvas, "every step's task must belong to the same Queue")
    if queue.test_mode.active:
        raise PykueError("workflows run on Redis: test mode does not record them")
    encoded = [_step_args(step) for step in steps]
    shape = Shape(exits, fan_in, kind)
    flow_id = queue.store.start_workflow(now_ms(), shape.to_json(), encoded)
    return WorkflowHandle(queue, flow_id, len(steps), shape)
