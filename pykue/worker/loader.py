"""``-A module[:attribute]``: import the user's module and find its Queue(s) and tasks."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from ..queue import Queue


class LoadError(Exception):
    """A one-line reason the app could not be loaded (the CLI exits with code 2)."""


def load_queues(spec: str) -> list[Queue]:
    module_name, _, attribute = spec.partition(":")
    if not module_name:
        raise LoadError(f"-A {spec!r}: expected module[:attribute]")
    if _looks_like_a_path(module_name):
        raise LoadError(f"-A {spec!r}: {_path_hint(module_name, attribute)}")
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


def _looks_like_a_path(name: str) -> bool:
    """``./tasks``, ``tasks.py`` and ``app/tasks`` are what a shell's completion offers;
    importlib would answer with a riddle about relative imports or packages."""
    return name.startswith(".") or name.endswith(".py") or "/" in name or os.sep in name


def _path_hint(path: str, attribute: str) -> str:
    try:
        parts = Path(path.removesuffix(".py")).resolve().relative_to(Path.cwd()).parts
    except ValueError:
        parts = ()
    hint = "pass a module name (importable from the current directory) or module:attribute, not a file path"
    if parts and all(part.isidentifier() for part in parts):
        return hint + ": -A " + ".".join(parts) + (f":{attribute}" if attribute else "")
    return hint


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
