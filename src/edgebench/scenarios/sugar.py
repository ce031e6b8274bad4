"""CLI sugar for LoadGen scenario options: ``--target-qps 50 --latency-bound 15ms`` become
``target_qps=50, latency_bound_s=0.015``. Each scenario's Options then validates them, so a flag a
scenario does not take fails with that scenario's name and field (``offline.target_qps: unknown option``)."""

from __future__ import annotations

from typing import Any

from edgebench.errors import UsageError
from edgebench.options import parse_duration


def scenario_sugar(
    *,
    target_qps: float | None,
    latency_bound: str | None,
    min_duration: str | None,
    min_queries: int | None,
    samples_per_query: int | None,
    accuracy_mode: bool,
    scenario: str | None = None,
) -> dict[str, Any]:
    """The given flags as scenario option fields (absent flags are left out).

    With ``scenario`` (a registered name), a flag that scenario does not take is refused by its flag name,
    with the scenarios that do take it, rather than as an unknown option field the user never typed.
    """
    given: dict[str, Any] = {
        "target_qps": target_qps,
        "latency_bound_s": parse_duration(latency_bound, "--latency-bound") if latency_bound else None,
        "min_duration_s": parse_duration(min_duration, "--min-duration") if min_duration else None,
        "min_queries": min_queries,
        "samples_per_query": samples_per_query,
        "accuracy_mode": True if accuracy_mode else None,
    }
    chosen = {k: v for k, v in given.items() if v is not None}
    if scenario is not None and chosen:
        _check_taken(scenario, list(chosen))
    return chosen


_FLAGS = {
    "target_qps": "--target-qps",
    "latency_bound_s": "--latency-bound",
    "min_duration_s": "--min-duration",
    "min_queries": "--min-queries",
    "samples_per_query": "--samples-per-query",
    "accuracy_mode": "--accuracy-mode",
}
_GROUP = "edgebench.scenarios"


def _fields(scenario: str) -> set[str]:
    from edgebench import registry

    model = getattr(registry.load(_GROUP, scenario), "Options", None)
    return set(getattr(model, "model_fields", {}))


def _check_taken(scenario: str, fields: list[str]) -> None:
    from edgebench import registry

    refused = [f for f in fields if f not in _fields(scenario)]
    if not refused:
        return
    flags = ", ".join(_FLAGS[f] for f in refused)
    takers = [n for n in registry.names(_GROUP) if n != "fake" and set(refused) <= _fields(n)]
    shown = "|".join(n.replace("_", "-") for n in takers)
    hint = f"use --scenario {shown}" if takers else "drop it"
    # the field name too ("loop.min_duration_s: unknown option"), as --scenario-option would say it
    raise UsageError(
        f"{flags}: not an option of --scenario {scenario.replace('_', '-')} ({scenario}.{refused[0]}: unknown option)",
        hint=hint,
    )


def merge(pairs: dict[str, Any], sugar: dict[str, Any]) -> dict[str, Any]:
    """--scenario-option pairs plus the flags; the same field given both ways is ambiguous."""
    both = sorted(set(pairs) & set(sugar))
    if both:
        raise UsageError(
            f"scenario option {', '.join(both)} given both as a flag and as --scenario-option",
            hint="give each option once",
        )
    return {**pairs, **sugar}
