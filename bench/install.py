"""Install the peers: one venv per Python peer (bench/.venv-<name>), npm packages in bench/.node;
byte-compile pykue and the adapters, as pip compiles every peer it installs.

Idempotent: a stamp file holds the pinned requirements; a venv whose stamp matches is reused.
"""

from __future__ import annotations

import compileall
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from systems import NODE_DIR, NPM_PACKAGES, Spec

STAMP = ".bench-installed"
HERE = os.path.dirname(os.path.abspath(__file__))


def _stamp_ok(directory: str, wanted: str) -> bool:
    try:
        with open(os.path.join(directory, STAMP)) as fh:
            return fh.read() == wanted
    except OSError:
        return False


def _write_stamp(directory: str, wanted: str) -> None:
    with open(os.path.join(directory, STAMP), "w") as fh:
        fh.write(wanted)


def _run(argv: list[str], log) -> None:
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    log.write(done.stdout)
    if done.returncode != 0:
        lines = [line for line in done.stdout.splitlines() if "WARNING" not in line and line.strip()]
        raise RuntimeError(f"{' '.join(argv[:3])}... failed: {' | '.join(lines[-3:])[:400]}")


def install_python(spec: Spec, log) -> None:
    wanted = "\n".join(spec.requirements)
    if _stamp_ok(spec.venv, wanted):
        return
    shutil.rmtree(spec.venv, ignore_errors=True)
    base_python = getattr(sys, "_base_executable", None) or "python3"
    _run([base_python, "-m", "venv", spec.venv], log)
    _run([spec.python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *spec.requirements], log)
    _write_stamp(spec.venv, wanted)


def install_node(log) -> None:
    wanted = "\n".join(NPM_PACKAGES)
    if _stamp_ok(NODE_DIR, wanted):
        return
    os.makedirs(NODE_DIR, exist_ok=True)
    _run(["npm", "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund", "--loglevel", "error", *NPM_PACKAGES], log)
    _write_stamp(NODE_DIR, wanted)


def compile_sources() -> None:
    """pip writes each package's bytecode when it installs it; pykue's tree is installed in
    place (``pip install -e``) and the adapters in bench/systems are not installed at all.
    Where PYTHONDONTWRITEBYTECODE is set (many container images, and the machines that made
    these numbers), Python then compiles them again in every process it starts: about 90 ms
    of each pykue worker's start-up, which W2 counts and no peer pays. Only stale files are
    compiled again; a file edited later is read from its source, as Python checks."""
    compileall.compile_dir(os.path.join(os.path.dirname(HERE), "pykue"), quiet=1)
    compileall.compile_dir(os.path.join(HERE, "systems"), maxlevels=0, quiet=1)


def install(specs: list[Spec], log_path: str) -> dict[str, str]:
    """Install what ``specs`` need; returns {name: error} for the ones that failed."""
    errors: dict[str, str] = {}
    jobs = {spec.name: spec for spec in specs if spec.runtime == "python" and spec.own_venv}
    want_node = any(spec.runtime == "node" for spec in specs)
    if want_node and not shutil.which("node"):
        errors.update({s.name: "node is not installed" for s in specs if s.runtime == "node"})
        want_node = False
    started = time.monotonic()
    with open(log_path, "a") as log, ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(install_python, spec, log) for name, spec in jobs.items()}
        if want_node:
            futures["node"] = pool.submit(install_node, log)
        for name, future in futures.items():
            try:
                future.result()
            except Exception as exc:  # reported in the table as n/a
                errors[name] = f"install: {exc}"
    if "node" in errors:
        message = errors.pop("node")
        errors.update({s.name: message for s in specs if s.runtime == "node"})
    compile_sources()
    print(f"installs ready in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return errors
