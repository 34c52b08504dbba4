"""What mypy must accept and what it must report about the typed task API.

Never run: tests/unit/test_typing.py runs mypy over this file. A line ending in
``# E: <error code>`` must be reported with that code; every other line must pass.
"""

from __future__ import annotations

import datetime as dt

from pykue import Job, Queue

queue = Queue("redis://127.0.0.1:1/0")


@queue.task("email", attempts=3)
def send_email(to: str, subject: str = "hello") -> dict[str, str]:
    return {"sent": to, "subject": subject}


@queue.task("video", bind=True)
def convert(job: Job, title: str, frames: int = 100) -> list[int]:
    return list(range(frames))


@queue.task
async def remind(user: str, text: str) -> str:
    return f"{user}: {text}"


@queue.task("kue-made")
def from_node(**data: object) -> None:
    pass


async def accepted() -> None:
    job: Job[dict[str, str]] = send_email.delay("tj@example.com")
    result: dict[str, str] = job.wait(timeout=10)
    send_email.delay(to="tj@example.com", subject="hi")
    send_email.schedule(60, to="tj@example.com")
    send_email.schedule(dt.timedelta(minutes=1), "tj@example.com", "hi")
    send_email.with_options(priority="high", attempts=1).delay(to="ops@example.com")
    inline: dict[str, str] = send_email("tj@example.com")
    frames: list[int] = convert.delay("demo", frames=2).wait()
    reminded: str = await remind("tj", "stand-up")
    text: str = remind.delay(user="tj", text="x").wait()
    from_node.delay(anything=1, goes="here")
    jobs: list[Job[dict[str, str]]] = send_email.delay_many([{"to": "a"}, {"to": "b"}])
    saved: Job[dict[str, str]] = await send_email.adelay(to="tj@example.com")
    awaited: dict[str, str] = await saved.await_result(10)
    later: Job[str] = await remind.aschedule(30, user="tj", text="x")
    many: list[Job[dict[str, str]]] = await send_email.adelay_many([{"to": "a"}])
    counts: dict[str, int] = await queue.acounts()
    found: Job = await queue.aget_job(1)
    print(result, inline, frames, reminded, text, jobs, awaited, later, many, counts, found)


async def reported() -> None:
    send_email.delay(wrong_kw=1)  # E: call-arg
    send_email.delay(to=1)  # E: arg-type
    send_email.delay()  # E: call-arg
    send_email.delay("a", "b", "c")  # E: call-arg
    send_email.schedule(60, to=1)  # E: arg-type
    send_email.with_options(priority="high").delay(wrong_kw=1)  # E: call-arg
    count: int = send_email.delay(to="a").wait()  # E: assignment
    convert.delay(title=3)  # E: arg-type
    await remind("tj")  # E: call-arg
    remind.delay(user="tj", text="x").wait().upper()
    number: int = remind.delay(user="tj", text="x").wait()  # E: assignment
    await send_email.adelay(to=1)  # E: arg-type
    await send_email.aschedule(60, wrong_kw=1)  # E: call-arg
    queue.task("email", concurency=20)  # E: call-overload
    print(count, number)
