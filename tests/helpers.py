"""Small helpers shared by the tests."""
from __future__ import annotations

import os
import time

IN_CI = bool(os.environ.get("CI"))


def wait_for(check, timeout: float = 10.0, interval: float = 0.01, message: str = "condition"):
    """Poll ``check`` until it returns a truthy value; tests never sleep blindly."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)

