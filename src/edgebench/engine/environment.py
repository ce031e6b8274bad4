"""Capture the environment of the machine that measures, attached to every record (pyperf metadata)."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import cast

from edgebench.records import Environment, JSONValue

# Runtime packages whose versions matter to a result; absent ones are simply not listed.
_RUNTIME_PACKAGES = ("onnxruntime", "onnx", "numpy", "openvino", "ai-edge-litert", "torch", "tflite-runtime")


def capture(thread_settings: dict[str, JSONValue] | None = None) -> Environment:
    from edgebench.platform.cpu import environment_facts

    commit, reason = git_commit(Path.cwd())
    return Environment(
        hostname=socket.gethostname(),
        os=_os_name(),
        kernel=platform.release(),
        python=platform.python_version(),
        edgebench_version=package_version("edgebench") or "unknown",
        machine=platform.machine(),
        cpu=cast(dict[str, JSONValue], environment_facts()),
        ram_bytes=_ram_bytes(),
        load_avg=_load_avg(),
        runtime_versions={p: v for p in _RUNTIME_PACKAGES if (v := package_version(p))},
        thread_settings=dict(thread_settings or {}),
        git_commit=commit,
        git_commit_reason=reason,
    )


def package_version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME", platform.system())
    except OSError:
        return platform.system()


def _ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _load_avg() -> tuple[float, float, float] | None:
    try:
        return os.getloadavg()
    except OSError:
        return None


def git_commit(cwd: Path) -> tuple[str | None, str | None]:
    """The commit of the project the user benchmarks from, so a result can be tied to code."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=2)
    except (OSError, subprocess.TimeoutExpired):
        return None, "git not available"
    if out.returncode != 0:
        return None, "not inside a git repository"
    return out.stdout.strip(), None
