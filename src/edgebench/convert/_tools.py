"""Importing a converter's tool: a missing one names the extra that provides it."""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from edgebench.errors import BackendUnavailable


def need(module: str, extra: str, what: str) -> Any:
    """``import module`` or BackendUnavailable("… pip install 'edgebench[extra]'")."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailable(
            f"{what} needs the Python package {module.split('.')[0]!r}, which is not installed ({exc})",
            hint=f"pip install 'edgebench[{extra}]'",
        ) from exc


def dist_version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "unknown"
