"""pykue: a Kue-compatible Redis priority job queue with a Celery-style task API."""
from __future__ import annotations

__version__ = "0.1.0"
