"""Entry-point registry: plugins (built-ins included) are found by name, loaded lazily and
checked against their protocol (ARCHITECTURE rule 4, after pluggy)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from edgebench.errors import BackendUnavailable, EdgebenchError, PluginError, UsageError
from edgebench.protocols import Analyzer, Backend, Collector, Store

GROUPS: dict[str, type] = {
    "edgebench.backends": Backend,
    "edgebench.collectors": Collector,
    "edgebench.stores": Store,
    "edgebench.analyzers": Analyzer,
}

# Names users will try before the plugin exists or is installed: tell them what to install.
# Runtimes on the roadmap that this version does not ship yet: say so instead of "unknown".
PLANNED: dict[str, str] = {
    "openvino": "OpenVINO",
    "litert": "LiteRT",
    "tflite": "LiteRT",
    "torch": "PyTorch",
    "pytorch": "PyTorch",
    "tensorrt": "TensorRT",
}


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def names(group: str) -> list[str]:
    """Registered plugin names of a group, sorted; ``fake`` plugins are listed last."""
    found = sorted(_entry_points(group))
    return [n for n in found if n != "fake"] + [n for n in found if n == "fake"]


def load(group: str, name: str) -> Any:
    """Import the plugin class ``name`` of ``group`` and check it honours the group's protocol."""
    if group not in GROUPS:
        raise PluginError(f"unknown plugin group {group!r}")
    eps = _entry_points(group)
    if name not in eps:
        raise _unknown(group, name, sorted(eps))
    try:
        plugin = eps[name].load()
    except ImportError as exc:
        raise BackendUnavailable(
            f"plugin {name!r} ({group}) cannot be imported: {exc}",
            hint=f"install the Python package {exc.name or 'it needs'!r} (e.g. pip install edgebench[{name}])",
        ) from exc
    _check_contract(group, name, plugin)
    return plugin


def _check_contract(group: str, name: str, plugin: Any) -> None:
    protocol = GROUPS[group]
    required = [m for m in _protocol_members(protocol) if not hasattr(plugin, m)]
    if required:
        raise PluginError(
            f"plugin {name!r} in {group} breaks its contract: missing {', '.join(required)}",
            hint=f"implement edgebench.protocols.{protocol.__name__}",
        )


def _protocol_members(protocol: type) -> list[str]:
    annotations = getattr(protocol, "__annotations__", {})
    methods = [m for m, v in vars(protocol).items() if callable(v) and not m.startswith("_")]
    return sorted(set(methods) | {a for a in annotations if not a.startswith("_")})


def _unknown(group: str, name: str, available: list[str]) -> EdgebenchError:
    kind = group.rsplit(".", 1)[-1].rstrip("s")
    if name in PLANNED:
        return BackendUnavailable(
            f"the {PLANNED[name]} {kind} is not part of this edgebench version yet",
            hint=f"available now: {', '.join(available)}",
        )
    return UsageError(f"unknown {kind} {name!r}", hint=f"choose one of: {', '.join(available)}")
