"""Create example jobs: with the task API and with Kue's fluent API.

PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 python producer.py
"""

from __future__ import annotations

import random

from tasks import build_report, convert_video, make_album, queue, remind, send_email, thumbnail

from pykue import chord

TITLES = ["holiday", "conference talk", "cat compilation", "product demo", "wedding"]


def produce(rounds: int = 1) -> list:
    jobs = []
    for _ in range(rounds):
        jobs.append(send_email.delay(to=f"user{random.randint(1, 999)}@example.com", subject="welcome"))
        jobs.append(convert_video.with_options(priority="low").delay(title=random.choice(TITLES), frames=15))
        jobs.append(remind.schedule(random.randint(5, 30), user="tj", text="stand-up in 5 minutes"))
        if random.random() < 0.3:
            jobs.append(build_report.delay(month="2026-10"))
        # Kue's fluent API, as Node Kue users know it:
        jobs.append(
            queue.create("email", {"title": "weekly digest", "to": "team@example.com"})
            .priority("critical")
            .attempts(3)
            .backoff(True)
            .delay(2000)
            .save()
        )
        # A workflow: three thumbnails in parallel, then the album once, with their results
        photos = [thumbnail.s(f"{random.choice(TITLES)}-{n}.jpg") for n in range(3)]
        jobs.extend(chord(photos, make_album.s(title="holiday")).delay().jobs())
    return jobs


if __name__ == "__main__":
    for job in produce():
        print(f"saved job {job.id} {job.type:<9} state={job.state:<8} data={job.data}")
    print("counts:", queue.counts())
