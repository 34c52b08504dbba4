"""The tasks the framework recipes enqueue (fastapi_app.py, django_app.py, flask_app.py).

PYKUE_REDIS_URL=redis://127.0.0.1:6379/0 pykue worker -A web_tasks   # from this folder
"""

from __future__ import annotations

from pykue import Queue

queue = Queue(prefix="q")  # $PYKUE_REDIS_URL, else redis://127.0.0.1:6379/0


@queue.task("welcome", concurrency=20, attempts=3)
def send_welcome(email: str, name: str = "there") -> dict[str, str]:
    """Typed: ``send_welcome.delay(email=1)`` is a mypy error, ``delay(mail=...)`` refused at once."""
    return {"to": email, "subject": f"Welcome, {name}!"}
