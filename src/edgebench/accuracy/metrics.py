"""Classification metrics with honest uncertainty, and the custom-metric hook.

The 95% interval of a proportion is Wilson's score interval: unlike the normal approximation it
stays inside [0, 1] and is sensible for 7 samples or for 100% accuracy.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

from edgebench.errors import UsageError

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` (n ≥ 1)."""
    if n <= 0 or not 0 <= successes <= n:
        raise ValueError(f"wilson needs 0 <= successes <= n and n >= 1, got {successes}/{n}")
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


MetricHook = Callable[[Any, Any], dict[str, Any]]


def load_metric(spec: str) -> MetricHook:
    """``module:function`` → the callable; called as ``function(outputs, targets) -> dict``."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"--metric must be module:function, got {spec!r}", hint="e.g. --metric mypkg.metrics:miou")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"--metric: cannot import {module_name!r}: {exc}", hint="is it on PYTHONPATH?") from exc
    func = getattr(module, attr, None)
    if not callable(func):
        raise UsageError(f"--metric: {module_name} has no function {attr!r}", hint="check the name")
    hook: MetricHook = func
    return hook


def run_metric(hook: MetricHook, spec: str, outputs: Any, targets: Any) -> dict[str, float | int | str | bool | None]:
    """Call the hook; its result must be a dict of JSON scalars (numpy scalars are converted)."""
    try:
        result = hook(outputs, targets)
    except Exception as exc:  # the user's code: report it in one line, keep the rest of the evaluation
        raise UsageError(f"--metric {spec} raised {type(exc).__name__}: {exc}", hint="fix the metric function") from exc
    if not isinstance(result, dict):
        raise UsageError(f"--metric {spec} returned {type(result).__name__}, not a dict", hint="return {'name': value}")
    clean: dict[str, float | int | str | bool | None] = {}
    for key, value in result.items():
        if hasattr(value, "item"):
            value = value.item()
        if not isinstance(value, (int, float, str, bool, type(None))) or (
            isinstance(value, float) and not math.isfinite(value)
        ):
            raise UsageError(f"--metric {spec}: value of {key!r} is not a finite JSON scalar", hint="return numbers")
        clean[str(key)] = value
    return clean
