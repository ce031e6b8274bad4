"""First-use polish through a real process: one-line errors, 80 columns, clean pipes, one spelling of µs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import edgebench
from edgebench.reporters import units

MICRO_SIGN = "\u00b5"  # U+00B5 MICRO SIGN, what units.duration prints (not U+03BC GREEK SMALL LETTER MU)


def _edgebench(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    """The console entry point in a fresh interpreter, stdout piped (not a TTY), COLUMNS as given."""
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "edgebench", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_quick_report_on_this_machine_fits_80_columns_when_piped() -> None:
    done = _edgebench("platform", "--quick", "--no-store")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Target Device (guide, Step 2)" in done.stdout
    assert [line for line in lines if len(line) > 80] == []
    assert [line for line in lines if line != line.rstrip()] == []  # Rich's cell padding is stripped
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("--duration", "inf"), "Error: --duration must be a finite number of seconds in [0.05, 3600], got inf"),
        (("--duration", "nan"), "Error: --duration must be a finite number of seconds in [0.05, 3600], got nan"),
        (("--threads", "-3"), "Error: --threads must be a whole number of threads in [1, 1024], got -3"),
        (("--threads", "many"), "Error: Invalid value for '--threads'"),
    ],
)
def test_bad_platform_option_is_one_line_and_exit_2(args: tuple[str, ...], start: str) -> None:
    done = _edgebench("platform", "--no-store", *args)
    assert done.returncode == 2
    assert done.stderr.startswith(start), done.stderr
    assert len(done.stderr.splitlines()) == 1 and "(hint: " in done.stderr
    assert done.stdout == ""


def test_durations_spell_micro_with_the_micro_sign() -> None:
    assert units.duration(12.5e-6) == f"12.5 {MICRO_SIGN}s"
    assert units.duration(999e-6) == f"999 {MICRO_SIGN}s"


# A quoted "us" unit, a number or placeholder followed by " us", or the Greek letter mu (U+03BC) before "s".
_OTHER_MICRO = re.compile(r"""(["'])us\1|(\d|\})\s?us\b|\u03bcs""")


def test_no_other_spelling_of_microseconds_in_the_source() -> None:
    src = Path(edgebench.__file__).parent
    hits = [
        f"{path.relative_to(src)}:{number}: {line.strip()}"
        for path in sorted(src.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _OTHER_MICRO.search(line) and "# input spelling" not in line  # parsers accept what users type
    ]
    assert hits == [], "print microseconds as µs (reporters/units.py):\n" + "\n".join(hits)
