"""Built-in backends (entry-point group ``edgebench.backends``); each imports its runtime lazily."""

from __future__ import annotations

import importlib
from typing import Any

from edgebench.errors import BackendUnavailable


def import_runtime(module: str, install: str) -> Any:
    """Import a runtime inside a backend (never at edgebench import time); a missing one is BackendUnavailable."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.split(".", 1)[0].replace("_", "-")
        raise BackendUnavailable(f"{package} is not installed", hint=install) from exc
