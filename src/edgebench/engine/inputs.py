"""Model inputs: resolve dynamic dimensions and generate seeded, dtype-correct data (or load real data)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.errors import ShapeError, UsageError
from edgebench.protocols import IOSpec

if TYPE_CHECKING:
    import numpy as np

# Refuse to allocate more than this for one set of inputs: an absurd --shape or --batch should be a
# clear error, not an out-of-memory kill. The user can raise it explicitly.
DEFAULT_MAX_INPUT_BYTES = 2 * 1024**3

# Value ranges per dtype kind: images normalised like the zoo's presets live in [-1, 1); integer
# inputs are usually indices or token ids, so stay small and non-negative.
_INT_RANGE = (0, 100)


def resolve_shapes(
    specs: Sequence[IOSpec], shapes: Mapping[str, Sequence[int]], batch: int | None
) -> dict[str, tuple[int, ...]]:
    """Concrete shape per input: ``--shape`` wins, then ``--batch`` fills a dynamic leading dim."""
    unknown = sorted(set(shapes) - {s.name for s in specs})
    if unknown:
        raise UsageError(
            f"--shape names unknown input {', '.join(unknown)}",
            hint=f"model inputs: {', '.join(s.name for s in specs)}",
        )
    return {s.name: _resolve_one(s, shapes.get(s.name), batch) for s in specs}


def _resolve_one(spec: IOSpec, given: Sequence[int] | None, batch: int | None) -> tuple[int, ...]:
    if given is not None:
        if batch is not None and given and given[0] != batch:
            raise ShapeError(
                f"--shape {spec.name}={'x'.join(map(str, given))} contradicts --batch {batch}",
                hint="give the batch once: either in --shape or with --batch",
            )
        return _check_given(spec, tuple(given))
    dims: list[int] = []
    for axis, dim in enumerate(spec.shape):
        if isinstance(dim, int) and dim > 0:
            if axis == 0 and batch is not None and batch != dim:
                raise ShapeError(
                    f"input {spec.name!r} has a fixed batch of {dim}; --batch {batch} cannot apply",
                    hint="export the model with a dynamic batch dimension (e.g. zoo pull --dynamic-batch)",
                )
            dims.append(dim)
        elif axis == 0:
            # onnxruntime_perf_test also fills a free leading dim with 1; we take --batch when given.
            dims.append(batch if batch is not None else 1)
        else:
            raise ShapeError(
                f"input {spec.name!r} has an unresolved dynamic dimension {dim!r} at axis {axis}",
                hint=f"give it with --shape {spec.name}=" + "x".join(_placeholder(spec.shape)),
            )
    return tuple(dims)


def _check_given(spec: IOSpec, given: tuple[int, ...]) -> tuple[int, ...]:
    if spec.shape and len(given) != len(spec.shape):
        raise ShapeError(
            f"--shape for {spec.name!r} has rank {len(given)}, the model expects rank {len(spec.shape)}",
            hint="x".join(_placeholder(spec.shape)),
        )
    for axis, (want, got) in enumerate(zip(spec.shape, given, strict=False)):
        if isinstance(want, int) and want > 0 and want != got:
            raise ShapeError(f"input {spec.name!r} axis {axis} is fixed at {want} in the model, --shape says {got}")
    return given


def _placeholder(shape: Sequence[object]) -> list[str]:
    return [str(d) if isinstance(d, int) and d > 0 else "N" for d in shape]


def check_size(specs: Sequence[IOSpec], shapes: Mapping[str, tuple[int, ...]], limit: int) -> int:
    """Total input bytes; refuse absurd sizes before allocating anything."""
    import numpy as np

    total = 0
    for spec in specs:
        itemsize = np.dtype(_np_dtype(spec.dtype)).itemsize
        total += math.prod(shapes[spec.name]) * itemsize
    if total > limit:
        raise ShapeError(
            f"inputs would need {total / 1024**2:,.0f} MiB, above the {limit / 1024**2:,.0f} MiB limit",
            hint="use a smaller --batch/--shape (or raise the limit with --max-input-mb)",
        )
    return total


def generate(specs: Sequence[IOSpec], shapes: Mapping[str, tuple[int, ...]], seed: int) -> dict[str, np.ndarray]:
    """Seeded random inputs: floats uniform in [-1, 1), ints in [0, 100) (clipped to the dtype), bools."""
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for spec in specs:
        dtype = np.dtype(_np_dtype(spec.dtype))
        shape = shapes[spec.name]
        if dtype.kind == "f":
            feeds[spec.name] = rng.uniform(-1.0, 1.0, size=shape).astype(dtype)
        elif dtype.kind in "iu":
            info = np.iinfo(dtype)
            lo, hi = max(_INT_RANGE[0], int(info.min)), min(_INT_RANGE[1], int(info.max) + 1)
            feeds[spec.name] = rng.integers(lo, hi, size=shape, dtype=dtype)
        elif dtype.kind == "b":
            feeds[spec.name] = rng.random(size=shape) < 0.5
        else:
            raise UsageError(
                f"cannot generate data for input {spec.name!r} of type {spec.dtype}",
                hint="pass real inputs with --inputs file.npz",
            )
    return feeds


def load_file(path: Path, specs: Sequence[IOSpec]) -> dict[str, np.ndarray]:
    """Real inputs from ``.npy`` (single-input models) or ``.npz`` (one array per input name)."""
    import numpy as np

    if not path.is_file():
        raise UsageError(f"inputs file {path} does not exist", hint="pass a .npy or .npz file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read inputs file {path}: {exc}", hint="save with numpy.save/savez") from exc
    if isinstance(loaded, np.ndarray):
        if len(specs) != 1:
            raise UsageError(
                f"{path.name} holds one array but the model has {len(specs)} inputs",
                hint="use an .npz with one array per input name",
            )
        return {specs[0].name: loaded.astype(_np_dtype(specs[0].dtype), copy=False)}
    arrays = {k: loaded[k] for k in loaded.files}
    missing = [s.name for s in specs if s.name not in arrays]
    if missing:
        raise UsageError(f"{path.name} lacks input(s) {', '.join(missing)}", hint=f"keys: {', '.join(arrays)}")
    return {s.name: arrays[s.name].astype(_np_dtype(s.dtype), copy=False) for s in specs}


def _np_dtype(name: str) -> str:
    if name in ("bfloat16", "str"):
        raise UsageError(f"inputs of type {name} are not supported yet", hint="pass real inputs with --inputs")
    return name
