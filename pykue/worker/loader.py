"""``-A module[:attribute]``: import the user's module and find its Queue(s) and tasks."""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from ..queue import Queue


class LoadError(Exception):
    """A one-line reason the app could not be loaded (the CLI exits with code 2)."""


def load_queues(spec: str) -> list[Queue]:
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise LoadError(f"-A {spec!r}: expected module[:attribute]")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise LoadError(f"-A {spec!r}: cannot import module {module_name!r}: {error}") from None
    except Exception as error:
        raise LoadError(f"-A {spec!r}: importing {module_name!r} raised {type(error).__name__}: {error}") from None
    if attribute:
        return [_queue_attribute(module, spec, attribute)]
    queues = _unique(v for v in vars(module).values() if isinstance(v, Queue))
    if not queues:
        raise LoadError(f"-A {spec!r}: module {module_name!r} defines no pykue Queue")
    return queues


def _queue_attribute(module: Any, spec: str, attribute: str) -> Queue:
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            raise LoadError(f"-A {spec!r}: {module.__name__!r} has no attribute {attribute!r}")
        value = getattr(value, part)
    if not isinstance(value, Queue):
        raise LoadError(f"-A {spec!r}: {attribute!r} is a {type(value).__name__}, not a pykue Queue")
    return value


def _unique(values: Any) -> list[Queue]:
    seen: list[Queue] = []
    for value in values:
        if all(value is not other for other in seen):
            seen.append(value)
    return seen
