"""An -A target whose Queue has no tasks."""

from pykue import Queue

queue = Queue(prefix="q")
