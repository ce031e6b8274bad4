"""Peak activation memory from tensor liveness along one execution order.

A tensor is live from the step that produces it (graph inputs: from the start) until the last step
that reads it (graph outputs: until the end). During a step its inputs and outputs are live together
(no in-place reuse assumed). The peak is the largest sum of live bytes over all steps: the smallest
arena a runtime without in-place tricks or fragmentation could use, which is the number that decides
whether a model fits an MCU's SRAM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    """One executed node: the activation tensors it reads and writes (weights excluded)."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


@dataclass(frozen=True)
class Peak:
    """``bytes`` and ``step`` are None when some tensor has an unknown size; ``lower_bound`` still holds."""

    bytes: int | None
    lower_bound: int
    step: str | None
    unknown_tensors: int


def _last_uses(steps: Sequence[Step], graph_outputs: Sequence[str]) -> dict[str, int]:
    last: dict[str, int] = {}
    for index, step in enumerate(steps):
        for name in (*step.inputs, *step.outputs):
            last[name] = index
    for name in graph_outputs:
        last[name] = len(steps)
    return last


def peak_activation(
    steps: Sequence[Step],
    sizes: Mapping[str, int | None],
    graph_inputs: Sequence[str],
    graph_outputs: Sequence[str],
) -> Peak:
    """Walk ``steps`` in order, tracking live bytes; unknown sizes count 0 but are reported."""
    last = _last_uses(steps, graph_outputs)
    live: set[str] = set(graph_inputs)
    unknown = {name for name in (*graph_inputs, *(o for s in steps for o in s.outputs)) if sizes.get(name) is None}
    best, best_step = 0, None
    for index, step in enumerate(steps):
        live.update(step.outputs)
        current = sum(sizes.get(name) or 0 for name in live)
        if current > best or best_step is None:
            best, best_step = current, step.name
        live = {name for name in live if last.get(name, index) > index}
    if not steps:
        best = sum(sizes.get(name) or 0 for name in live)
    if unknown:  # the step where the known sizes peak need not be where the real peak is
        return Peak(None, best, None, len(unknown))
    return Peak(best, best, best_step, 0)
