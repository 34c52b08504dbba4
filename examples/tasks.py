"""Example tasks: run them with ``pykue worker -A tasks`` from this folder.

The queue connects to $PYKUE_REDIS_URL (``make demo`` points it at an embedded Redis).
"""

from __future__ import annotations

import asyncio
import random
import time

import pykue
from pykue import Queue

queue = Queue(prefix="q")


@queue.task("email", concurrency=20, attempts=5, backoff={"type": "exponential", "delay": 500}, priority="high")
def send_email(to: str, subject: str = "hello", body: str = "", title: str = "") -> dict:
    """Flaky on purpose: one in four sends fails and is retried with exponential backoff."""
    time.sleep(random.uniform(0.05, 0.3))
    if random.random() < 0.25:
        raise ConnectionError(f"SMTP server refused {to}")
    return {"delivered_to": to, "subject": title or subject}


@queue.task("video", concurrency=2, attempts=2, ttl=120_000, bind=True)
def convert_video(job: pykue.Job, title: str, frames: int = 20) -> dict:
    """Reports progress and log lines while it works."""
    job.log("converting %s (%d frames)", title, frames)
    for frame in range(1, frames + 1):
        time.sleep(random.uniform(0.1, 0.4))
        job.progress(frame, frames, {"frame": frame})
    job.log("done: %s.mp4", title)
    return {"file": f"{title}.mp4", "frames": frames}


@queue.task("reminder", concurrency=5)
async def remind(user: str, text: str) -> str:
    """An async task, usually scheduled: ``remind.schedule(30, user=..., text=...)``."""
    await asyncio.sleep(0.05)
    return f"reminded {user}: {text}"


@queue.task("report", attempts=2, backoff={"type": "fixed", "delay": 2000})
def build_report(month: str) -> None:
    """Always fails, to show failed jobs, their errors and retries."""
    raise ValueError(f"no data for {month}")


@queue.task("thumbnail", concurrency=4)
def thumbnail(photo: str, size: int = 128) -> dict:
    """A chord's member (see producer.py): its result goes to the album, in order."""
    time.sleep(random.uniform(0.05, 0.3))
    return {"photo": photo, "thumbnail": f"{photo}@{size}px"}


@queue.task("album")
def make_album(thumbnails: list, title: str = "album") -> dict:
    """A chord's callback: runs once, with every thumbnail's result (docs/workflows.md)."""
    return {"title": title, "pages": [t["thumbnail"] for t in thumbnails]}


@queue.task("import", concurrency=3, bind=True)
def import_contacts(job: pykue.Job, source: str, batches: int = 30) -> dict:
    """A long job (two minutes or so): it keeps the Active list and the Workers page busy."""
    job.log("importing contacts from %s", source)
    for batch in range(1, batches + 1):
        time.sleep(random.uniform(2.0, 6.0))
        if batch % 10 == 0:
            job.log("imported %d contacts", batch * 500)
        job.progress(batch, batches)
    return {"source": source, "contacts": batches * 500}


@queue.task("newsletter")
def send_newsletter(issue: int, audience: str = "everyone") -> str:
    """The demo pauses this type at start: its jobs wait in Queued until resumed (Overview)."""
    time.sleep(0.2)
    return f"issue {issue} sent to {audience}"


@queue.task("digest", every=30, unique=True, rate_limit="10/m")
def send_digest() -> str:
    """A periodic job (no beat process: the workers fire it, one job per due time) with a
    fleet-wide rate limit; both show on the Overview (Schedules, the type's limit chip)."""
    return "digest sent"
