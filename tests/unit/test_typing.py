"""The typed task API as a user's type checker sees it: mypy over tests/typing/sample.py must
report every mistake marked there (``# E: <code>``) and nothing on the other lines."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "typing" / "sample.py"
REPORTED = re.compile(r"^.*sample\.py:(\d+): error: .*\[([\w-]+)\]$")


def expected_errors() -> set[tuple[int, str]]:
    marks = (re.search(r"# E: ([\w-]+)$", line) for line in SAMPLE.read_text().splitlines())
    return {(number, mark.group(1)) for number, mark in enumerate(marks, 1) if mark}


def test_mypy_reports_the_marked_mistakes_and_accepts_every_other_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path), str(SAMPLE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    reported = {(int(m.group(1)), m.group(2)) for m in map(REPORTED.match, done.stdout.splitlines()) if m}
    expected = expected_errors()
    assert len(expected) >= 10
    assert reported - expected == set(), f"mypy reported errors on lines that must pass:\n{done.stdout}"
    assert expected - reported == set(), f"mypy missed marked mistakes:\n{done.stdout}"
