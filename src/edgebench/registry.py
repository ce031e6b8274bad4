"""Entry-point registry: plugins (built-ins included) are found by name, loaded lazily and
checked against their protocol (ARCHITECTURE rule 4, after pluggy).

The contract check goes beyond ``hasattr``: members must be callable with the protocol's
arity, declared data must have the declared type (``formats`` a tuple of known format names,
``Options`` a frozen pydantic model that forbids extra keys), and the entry point's name must
equal the plugin's ``name``. Every error names the plugin and the rule it breaks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from edgebench.errors import BackendUnavailable, EdgebenchError, PluginError, UsageError

GROUPS = (
    "edgebench.backends",
    "edgebench.scenarios",
    "edgebench.executors",
    "edgebench.collectors",
    "edgebench.stores",
    "edgebench.analyzers",
    "edgebench.formats",
    "edgebench.datasets",
    "edgebench.converters",
)

# Names users will try before the plugin exists or is installed: tell them what to install.
PLANNED: dict[str, str] = {
    "tensorrt": "TensorRT",
    "ssh": "SSH",
    "ray": "Ray",
}

# Other names users type for a plugin that exists under its own name.
ALIASES: dict[str, str] = {
    "tflite": "litert",
    "tensorflow-lite": "litert",
    "pytorch": "torch",
    "ort": "onnxruntime",
    "ov": "openvino",
    # scenarios: the CLI spells LoadGen's scenarios with dashes; "none" is the tight loop
    "none": "loop",
    "tight-loop": "loop",
    "single-stream": "single_stream",
    "singlestream": "single_stream",
    "multi-stream": "multi_stream",
    "multistream": "multi_stream",
}

# member name → number of positional parameters after self; None = a data attribute
_METHODS: dict[str, dict[str, int]] = {
    "edgebench.backends": {"load": 3, "versions": 0},
    "edgebench.scenarios": {"run": 1},
    "edgebench.executors": {"submit": 1},
    "edgebench.collectors": {"start": 0, "stop": 0},
    "edgebench.stores": {"put": 1, "get": 1, "list": 0},
    "edgebench.analyzers": {"analyze": 1},
    "edgebench.formats": {"detect": 2, "files": 1},
    "edgebench.datasets": {"detect": 1, "open": 2},
    "edgebench.converters": {"tool": 0, "convert": 3},
}
_NAMED = frozenset(
    {
        "edgebench.backends",
        "edgebench.scenarios",
        "edgebench.executors",
        "edgebench.collectors",
        "edgebench.formats",
        "edgebench.datasets",
        "edgebench.converters",
    }
)
_WITH_OPTIONS = frozenset({"edgebench.backends", "edgebench.scenarios"})


@cache
def _entry_points(group: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group)}


def refresh() -> None:
    """Forget cached entry points and loaded plugins (after installing a plugin at run time; tests)."""
    _entry_points.cache_clear()
    load.cache_clear()


def names(group: str) -> list[str]:
    """Registered plugin names of a group, sorted; ``fake`` plugins are listed last."""
    found = sorted(_entry_points(group))
    return [n for n in found if n != "fake"] + [n for n in found if n == "fake"]


def canonical(group: str, name: str) -> str:
    """The registered name for ``name``: itself, or the plugin an alias stands for (``none`` → ``loop``)."""
    eps = _entry_points(group)
    if name not in eps and ALIASES.get(name) in eps:
        return ALIASES[name]
    return name


def distribution(group: str, name: str) -> str | None:
    """The installed distribution that provides a plugin (for `edgebench backends`)."""
    ep = _entry_points(group).get(name)
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else None


@cache
def load(group: str, name: str) -> Any:
    """Import the plugin class ``name`` of ``group`` and check it honours the group's protocol."""
    if group not in GROUPS:
        raise PluginError(f"unknown plugin group {group!r}")
    eps = _entry_points(group)
    if name not in eps:
        raise _unknown(group, name, names(group))
    try:
        plugin = eps[name].load()
    except ImportError as exc:
        raise BackendUnavailable(
            f"plugin {name!r} ({group}) cannot be imported: {exc}",
            hint=f"install the Python package {exc.name or 'it needs'!r} (e.g. pip install edgebench[{name}])",
        ) from exc
    except Exception as exc:  # a broken plugin module must not take the CLI down with a traceback
        raise PluginError(f"plugin {name!r} ({group}) failed to import: {type(exc).__name__}: {exc}") from exc
    check_contract(group, name, plugin)
    return plugin


def check_contract(group: str, name: str, plugin: Any) -> None:
    """Raise PluginError naming ``name`` and the first rule ``plugin`` breaks."""
    for rule in _rules(group):
        problem = rule(group, plugin)
        if problem:
            raise PluginError(
                f"plugin {name!r} in {group} breaks its contract: {problem}",
                hint=f"see edgebench.protocols and docs/architecture.md ({_kind(group)} plugins)",
            )
    declared = getattr(plugin, "name", None)
    if group in _NAMED and declared != name:
        raise PluginError(
            f"plugin {name!r} in {group} breaks its contract: its name attribute is {declared!r}, "
            f"the entry point is {name!r}",
            hint="make the entry point's name and the class attribute `name` equal",
        )


def _rules(group: str) -> list[Callable[[str, Any], str | None]]:
    rules: list[Callable[[str, Any], str | None]] = [_methods_rule]
    if group in _NAMED:
        rules.insert(0, _name_rule)
    if group in _WITH_OPTIONS:
        rules.append(_options_rule)
    if group == "edgebench.backends":
        rules += [_formats_rule, _precisions_rule]
    if group == "edgebench.formats":
        rules.append(_suffixes_rule)
    return rules


def _name_rule(group: str, plugin: Any) -> str | None:
    value = getattr(plugin, "name", None)
    return None if isinstance(value, str) and value else "`name` must be a non-empty str"


def _methods_rule(group: str, plugin: Any) -> str | None:
    for method, arity in _METHODS[group].items():
        member = getattr(plugin, method, None)
        if member is None:
            return f"missing method {method}()"
        if not callable(member):
            return f"{method} must be a method, got {type(member).__name__}"
        if not _accepts(member, arity + (1 if inspect.isclass(plugin) and inspect.isfunction(member) else 0)):
            return f"{method}() must accept {arity} positional argument(s)"
    return None


def _accepts(func: Any, count: int) -> bool:
    try:
        inspect.signature(func).bind(*([None] * count))
    except TypeError:
        return False
    except ValueError:  # builtins without a signature: give them the benefit of the doubt
        return True
    return True


def _options_rule(group: str, plugin: Any) -> str | None:
    from pydantic import BaseModel

    options = getattr(plugin, "Options", None)
    if not (inspect.isclass(options) and issubclass(options, BaseModel)):
        return "`Options` must be a pydantic BaseModel subclass"
    config = options.model_config
    if config.get("extra") != "forbid" or not config.get("frozen"):
        return '`Options` must be frozen and forbid extra keys (model_config = ConfigDict(frozen=True, extra="forbid"))'
    try:
        options()
    except Exception:
        return "`Options()` must be constructible with defaults only"
    return None


def _precisions_rule(group: str, plugin: Any) -> str | None:
    precisions = getattr(plugin, "precisions", ("fp32",))
    if not isinstance(precisions, tuple) or not set(precisions) <= {"fp32", "fp16", "bf16"} or "fp32" not in precisions:
        return f"`precisions` must be a tuple of fp32/fp16/bf16 that includes fp32, got {precisions!r}"
    return None


def _formats_rule(group: str, plugin: Any) -> str | None:
    formats = getattr(plugin, "formats", None)
    if not isinstance(formats, tuple) or not formats or not all(isinstance(f, str) for f in formats):
        return f"`formats` must be a non-empty tuple of format names, got {formats!r}"
    unknown = [f for f in formats if f not in names("edgebench.formats")]
    if unknown:
        return (
            f"`formats` names unknown format(s) {', '.join(unknown)} (known: {', '.join(names('edgebench.formats'))})"
        )
    return None


def _suffixes_rule(group: str, plugin: Any) -> str | None:
    suffixes = getattr(plugin, "suffixes", None)
    if not isinstance(suffixes, tuple) or not all(isinstance(s, str) and s.startswith(".") for s in suffixes):
        return f"`suffixes` must be a tuple of '.ext' strings, got {suffixes!r}"
    return None


def check_session(backend: str, session: Any) -> None:
    """What ``load`` returned must honour Session; checked once per load, outside any timing."""
    for method, arity in (("inputs", 0), ("outputs", 0), ("run", 1), ("close", 0)):
        member = getattr(session, method, None)
        if member is None or not callable(member) or not _accepts(member, arity):
            raise PluginError(
                f"plugin {backend!r} in edgebench.backends breaks its contract: load() returned "
                f"{type(session).__name__}, whose {method}() is missing or does not take {arity} argument(s)",
                hint="load() must return an edgebench.protocols.Session",
            )


def _kind(group: str) -> str:
    return group.rsplit(".", 1)[-1].rstrip("s")


def _unknown(group: str, name: str, available: list[str]) -> EdgebenchError:
    kind = _kind(group)
    if name in PLANNED:
        return BackendUnavailable(
            f"the {PLANNED[name]} {kind} is not part of this edgebench version yet",
            hint=f"available now: {', '.join(available)}",
        )
    if ALIASES.get(name) in available:
        return UsageError(
            f"unknown {kind} {name!r} (did you mean {ALIASES[name]!r}?)", hint=f"choose one of: {', '.join(available)}"
        )
    return UsageError(f"unknown {kind} {name!r}", hint=f"choose one of: {', '.join(available)}")
