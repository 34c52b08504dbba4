"""Unique jobs: the key that says a job with the same purpose is already queued, delayed,
running, or ended less than ``unique_for`` seconds ago.

A job saved with a unique key takes ``<prefix>:pykue:unique:<type>:<key>`` in save_jobs.lua,
atomically, unless a job holding it still exists: then nothing is saved and ``delay()``
returns that job, its ``duplicate_of`` set. The key is kept while the job waits or runs,
lives ``unique_for`` seconds more once it ends for good (complete, failed, cancelled), and is
deleted with the job.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_canonical = json.JSONEncoder(separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode


def unique_name(job_type: str, key: str | bool, data: Any) -> str:
    """The stored key of a job: its type, then the key given, or (``True``) a digest of its
    data as canonical JSON (sorted keys), so equal data in another order is the same job."""
    if key is True:
        key = "data:" + hashlib.sha1(_canonical(data).encode()).hexdigest()
    return f"{job_type}:{key}"
