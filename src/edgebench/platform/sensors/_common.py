"""States, the SensorStatus record and the file/command probing shared by every sensor family.

Tests run as root, and root reads even chmod-000 files; the readability check is therefore an
injectable ``can_read`` callable (default ``os.access``) so "permission denied" is testable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

READABLE = "readable"
PERMISSION_DENIED = "permission_denied"
ABSENT = "absent"

# A runner takes argv and returns (exit status, stdout+stderr); it raises FileNotFoundError when the
# program is not installed.  Tests pass a fake; only the real root uses the subprocess runner.
CommandRunner = Callable[[Sequence[str]], tuple[int, str]]
ReadCheck = Callable[[Path], bool]


@dataclass(frozen=True)
class SensorStatus:
    """One sensor: what it measures, where, whether readable now, and how to fix it if not."""

    name: str
    kind: str  # power | energy | thermal | frequency | throttle
    source: str  # rapl | nvml | ina3221 | vcgencmd | hwmon | thermal_zone | cpufreq | devfreq
    state: str  # readable | permission_denied | absent
    path: str | None = None
    value: float | None = None
    unit: str | None = None  # W, J, C, Hz, bitmask
    detail: str | None = None
    fix: str | None = None


def default_can_read(path: Path) -> bool:
    return os.access(path, os.R_OK)


def default_runner(root: Path) -> CommandRunner:
    """The real subprocess runner for the real machine; a fake root never runs host commands."""
    return _subprocess_runner if root == Path("/") else _no_commands


def _subprocess_runner(argv: Sequence[str]) -> tuple[int, str]:
    if shutil.which(argv[0]) is None:
        raise FileNotFoundError(argv[0])
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=2.0, check=False)
    except subprocess.TimeoutExpired:
        return 124, f"{argv[0]} timed out after 2 s"
    return done.returncode, done.stdout + done.stderr


def _no_commands(argv: Sequence[str]) -> tuple[int, str]:
    raise FileNotFoundError(argv[0])


def probe_file(path: Path, can_read: ReadCheck) -> tuple[str, str | None, str | None]:
    """(state, text, detail) for one sysfs file."""
    if not path.exists():
        return ABSENT, None, "file missing"
    if not can_read(path):
        return PERMISSION_DENIED, None, None
    try:
        return READABLE, path.read_text().strip(), None
    except PermissionError:
        return PERMISSION_DENIED, None, None
    except OSError as exc:  # EINVAL/ENODATA: the driver has no value to give right now
        return ABSENT, None, f"read failed: {exc.strerror or exc}"


def shown(root: Path, path: Path) -> str:
    """The path as the user's machine spells it (fake roots are stripped)."""
    try:
        return "/" + str(path.relative_to(root)).lstrip("/")
    except ValueError:
        return str(path)


def _millidegrees(text: str | None) -> float | None:
    """m°C to °C; drivers report -274000 or absurd values when they have no reading."""
    try:
        value = int(text or "") / 1000.0
    except ValueError:
        return None
    return value if -60.0 < value < 200.0 else None


def _number(text: str | None, scale: float = 1.0) -> float | None:
    try:
        return float(text or "") * scale
    except ValueError:
        return None


def _absent(name: str, kind: str, source: str, path: str | None, detail: str, fix: str | None = None) -> SensorStatus:
    return SensorStatus(name=name, kind=kind, source=source, state=ABSENT, path=path, detail=detail, fix=fix)


def _with_detail(sensor: SensorStatus, note: str) -> SensorStatus:
    return replace(sensor, detail=f"{sensor.detail}; {note}" if sensor.detail else note)


def _file_sensor(
    root: Path, file: Path, name: str, kind: str, source: str, unit: str, scale: float, can_read: ReadCheck
) -> SensorStatus:
    state, text, detail = probe_file(file, can_read)
    value = _number(text, scale) if state == READABLE else None
    if kind == "thermal" and value is not None and not -60.0 < value < 200.0:
        state, value, detail = ABSENT, None, f"implausible reading {text!r} (no value from the driver)"
    return SensorStatus(
        name=name,
        kind=kind,
        source=source,
        state=state,
        path=shown(root, file),
        value=value,
        unit=unit,
        detail=detail,
        fix=f"sudo chmod a+r {shown(root, file)}" if state == PERMISSION_DENIED else None,
    )
