"""The worker runtime: ``Worker(queue).run()``, and the ``pykue worker`` command's pieces."""

from .runtime import Worker

__all__ = ["Worker"]
