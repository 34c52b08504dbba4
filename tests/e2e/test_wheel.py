"""A wheel built from the repository, installed into a fresh virtualenv, serves the dashboard.

This is the test that the front end (``ui/``, shipped as ``pykue/ui``) really is inside the
package: nothing from the working tree is importable in the fresh environment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.e2e.dashboard_process import DashboardProcess

REPO = Path(__file__).resolve().parents[2]
SOURCES = ["pykue", "ui", "setup.cfg", "pyproject.toml", "README.md", "MANIFEST.in", "LICENSE"]
UI_FILES = [
    "pykue/ui/templates/layout.html",
    "pykue/ui/templates/jobs.html",
    "pykue/ui/templates/unavailable.html",
    "pykue/ui/static/dashboard.js",
    "pykue/ui/static/dashboard.css",
    "pykue/ui/static/favicon.svg",
]


def run(argv: list[str], cwd: Path, timeout: float = 300) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def copy_sources(target: Path) -> None:
    """The files a wheel is built from, copied so the build never writes into the work tree."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        source = REPO / name
        if source.is_dir() and not source.is_symlink():
            shutil.copytree(source, target / name, symlinks=True, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    copy_sources(work / "src")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(work / "src")], work)
    [built] = (work / "dist").glob("pykue-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_python(wheel, tmp_path_factory) -> str:
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    run([sys.executable, "-m", "venv", str(venv)], venv.parent)
    python = str(venv / "bin" / "python")
    run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel)], venv.parent)
    return python


def test_wheel_contains_the_front_end(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    lua = [str(path.relative_to(REPO)) for path in (REPO / "pykue" / "scripts").rglob("*.lua")]
    missing = [name for name in UI_FILES + lua + ["pykue/web/app.py", "pykue/web/api.py"] if name not in names]
    assert not missing, f"not in {wheel.name}: {missing}"


def test_installed_wheel_serves_pages_and_assets(fresh_python, redis_server, client, tmp_path, monkeypatch):
    monkeypatch.delenv("PYTHONPATH", raising=False)
    where = run([fresh_python, "-c", "import pykue.web.app as a; print(a.__file__); print(a.UI_DIR)"], tmp_path)
    module_file, ui_dir = where.split()
    assert not module_file.startswith(str(REPO)) and "site-packages" in module_file
    assert Path(ui_dir, "templates", "jobs.html").is_file()

    with DashboardProcess(
        ["-r", redis_server.url, "--title", "From the wheel"], python=fresh_python, cwd=tmp_path
    ) as dashboard:
        with urllib.request.urlopen(dashboard.url + "/failed") as response:
            page = response.read().decode()
        assert response.status == 200
        assert "<title>Failed · From the wheel</title>" in page
        for asset, marker in (
            ("/static/dashboard.js", "textContent"),
            ("/static/dashboard.css", ".job-row"),
            ("/static/favicon.svg", "<svg"),
        ):
            assert f'"{asset}' in page or asset == "/static/favicon.svg" or f"{asset}?v=" in page
            with urllib.request.urlopen(dashboard.url + asset) as response:
                assert response.status == 200
                assert marker in response.read().decode(), asset
        with urllib.request.urlopen(dashboard.url + "/stats") as response:
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
