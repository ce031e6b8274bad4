"""Model inputs: resolve dynamic dimensions and generate seeded, dtype-correct data (or load real data).

Data is generated directly in the input's dtype (no float64 intermediate: an input under the size
limit never needs 3× its size). Quantized inputs (IOSpec.scale/zero_point) are drawn so that their
real value ``scale·(q − zero_point)`` covers [-1, 1), the range the float models see.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.errors import ShapeError, UsageError
from edgebench.protocols import IOSpec
from edgebench.records import DEFAULT_MAX_INPUT_BYTES, RunSpec, TensorInfo

if TYPE_CHECKING:
    import numpy as np

# Refuse to allocate more than DEFAULT_MAX_INPUT_BYTES for one set of inputs (records.py): an absurd
# --shape or --batch should be a clear error, not an out-of-memory kill. The user can raise it.
__all__ = [
    "DEFAULT_MAX_INPUT_BYTES",
    "QSL_PREFIX",
    "PreparedInputs",
    "QslSamples",
    "check_size",
    "generate",
    "load_file",
    "load_qsl",
    "prepare",
]

# Reserved keys of an inputs .npz (written by ``bench --data``): the LoadGen QSL's real samples.
# ``<prefix>x.<input>`` stacks N batch-1 feeds on a new axis 0; ``<prefix>accepted`` is int64 [N, K],
# each sample's right answers as output indices padded with -1 (all -1: unlabelled); ``<prefix>source``
# says where they came from. The model-input keys still hold sample 0 alone, so the tight loop reads it as before.
QSL_PREFIX = "__edgebench_qsl__."

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
    _check_tensor(spec)
    if given is None and spec.shape is None:
        raise ShapeError(
            f"input {spec.name!r} has an unknown rank (the model declares no shape)",
            hint=f"give its shape with --shape {spec.name}=AxBxC",
        )
    if given is not None:
        if batch is not None and given and given[0] != batch:
            raise ShapeError(
                f"--shape {spec.name}={'x'.join(map(str, given))} contradicts --batch {batch}",
                hint="give the batch once: either in --shape or with --batch",
            )
        return _check_given(spec, tuple(given))
    dims: list[int] = []
    declared = spec.shape or ()
    for axis, dim in enumerate(declared):
        if isinstance(dim, int) and dim >= 0:  # 0 is a real (empty) extent, not a free dimension
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
                hint=f"give it with --shape {spec.name}=" + "x".join(_placeholder(declared)),
            )
    return tuple(dims)


def _check_tensor(spec: IOSpec) -> None:
    if spec.dtype.startswith("tensor("):  # a tensor whose element type numpy cannot hold (float8, int4…)
        raise UsageError(
            f"input {spec.name!r} has element type {spec.dtype[7:-1]}, which edgebench cannot generate",
            hint="pass real inputs with --inputs file.npz, or benchmark a model with numpy-representable inputs",
        )
    if not _is_tensor_dtype(spec.dtype):
        raise UsageError(
            f"input {spec.name!r} is of type {spec.dtype}: edgebench generates tensor inputs only",
            hint="pass real inputs with --inputs file.npz, or benchmark a model with tensor inputs",
        )


def _is_tensor_dtype(name: str) -> bool:
    import numpy as np

    if name in ("bfloat16", "str"):
        return True  # a tensor, refused later with its own message
    try:
        np.dtype(name)
    except TypeError:
        return False
    return True


def _check_given(spec: IOSpec, given: tuple[int, ...]) -> tuple[int, ...]:
    if spec.shape is None:
        return given
    if len(given) != len(spec.shape):
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
    """Seeded random inputs made directly in their dtype.

    Floats uniform in [-1, 1); quantized ints so that scale·(q − zero_point) spans [-1, 1) (clipped to
    the dtype); other ints in [0, 100) (indices, token ids); bools fair coin flips.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds: dict[str, np.ndarray] = {}
    for spec in specs:
        dtype = np.dtype(_np_dtype(spec.dtype))
        shape = shapes[spec.name]
        if dtype.kind == "f":
            feeds[spec.name] = _uniform_float(rng, shape, dtype)
        elif dtype.kind in "iu":
            lo, hi = int_range(spec, dtype)
            feeds[spec.name] = rng.integers(lo, hi, size=shape, dtype=dtype)
        elif dtype.kind == "b":
            feeds[spec.name] = rng.integers(0, 2, size=shape, dtype=np.uint8).view(np.bool_)
        else:
            raise UsageError(
                f"cannot generate data for input {spec.name!r} of type {spec.dtype}",
                hint="pass real inputs with --inputs file.npz",
            )
    return feeds


def _uniform_float(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    import numpy as np

    if dtype in (np.float32, np.float64):
        out = rng.random(size=shape, dtype=dtype)  # no float64 temporary for float32
    else:  # float16: numpy's generator has no float16 path; go through float32 (2×, not 4×)
        out = rng.random(size=shape, dtype=np.float32)
    out *= 2.0
    out -= 1.0
    result: np.ndarray = out.astype(dtype, copy=False)
    return result


def int_range(spec: IOSpec, dtype: np.dtype) -> tuple[int, int]:
    """[lo, hi) for a generated integer input."""
    import numpy as np

    info = np.iinfo(dtype)
    if spec.scale is not None and spec.scale > 0:
        zp = spec.zero_point or 0
        lo, hi = round(zp - 1.0 / spec.scale), round(zp + 1.0 / spec.scale)
    else:
        lo, hi = _INT_RANGE
    return max(lo, int(info.min)), min(hi, int(info.max) + 1)


def load_file(path: Path, specs: Sequence[IOSpec]) -> tuple[dict[str, np.ndarray], list[str]]:
    """Real inputs from ``.npy`` / ``.npz`` and notes (unused keys, then each cast); see :func:`_load_file`."""
    feeds, notes, casts = _load_file(path, specs)
    return feeds, notes + [f"{path.name}: {cast}" for cast in casts.values()]


def _load_file(path: Path, specs: Sequence[IOSpec]) -> tuple[dict[str, np.ndarray], list[str], dict[str, str]]:
    """Real inputs from ``.npy`` (single-input models) or ``.npz`` (one array per input name).

    Returns the feeds, notes on keys the model does not use, and each input's cast ({name: "x cast from a to b"}).
    A lossy cast (float → int, signed → unsigned of negative values, out-of-range) is refused.
    """
    import numpy as np

    if not path.is_file():
        raise UsageError(f"inputs file {path} does not exist", hint="pass a .npy or .npz file")
    try:
        loaded = np.load(path, allow_pickle=False)
        arrays = (
            {specs[0].name if specs else "x": loaded}
            if isinstance(loaded, np.ndarray)
            else {k: loaded[k] for k in loaded.files if not k.startswith(QSL_PREFIX)}  # QSL arrays: load_qsl
        )
    except (OSError, ValueError, EOFError) as exc:
        raise UsageError(
            f"cannot read inputs file {path}: {exc or type(exc).__name__}", hint="save with numpy.save/savez"
        ) from exc
    if isinstance(loaded, np.ndarray) and len(specs) != 1:
        raise UsageError(
            f"{path.name} holds one array but the model has {len(specs)} inputs",
            hint="use an .npz with one array per input name",
        )
    missing = [s.name for s in specs if s.name not in arrays]
    if missing:
        keys = ", ".join(arrays) or "none (empty file)"
        raise UsageError(f"{path.name} lacks input(s) {', '.join(missing)}", hint=f"keys in the file: {keys}")
    notes = [
        f"{path.name}: key {k!r} is not a model input and was ignored"
        for k in arrays
        if k not in {s.name for s in specs}
    ]
    feeds, casts = {}, {}
    for s in specs:
        feeds[s.name], cast = _cast(path.name, s, arrays[s.name])
        if cast:
            casts[s.name] = cast
    return feeds, notes, casts


def _cast(file: str, spec: IOSpec, array: np.ndarray) -> tuple[np.ndarray, str | None]:
    import numpy as np

    want = np.dtype(_np_dtype(spec.dtype))
    if array.dtype == want:
        return array, None
    if array.dtype.kind not in "biuf":
        raise UsageError(
            f"{file}: {spec.name} has dtype {array.dtype}, the model wants {want}", hint=f"save {spec.name} as {want}"
        )
    cast = array.astype(want)
    lossy = (array.dtype.kind == "f" and want.kind in "biu") or not np.array_equal(cast.astype(array.dtype), array)
    if lossy and not (array.dtype.kind == "f" and want.kind == "f"):
        raise UsageError(
            f"{file}: casting {spec.name} from {array.dtype} to {want} would change its values",
            hint=f"save {spec.name} as {want} (e.g. np.savez(..., {spec.name}=x.astype('{want}')))",
        )
    return cast, f"{spec.name} cast from {array.dtype} to {want}"


@dataclass(frozen=True)
class PreparedInputs:
    feeds: dict[str, np.ndarray]
    infos: tuple[TensorInfo, ...]
    batch: int
    batch_source: str
    notes: tuple[str, ...]


def prepare(specs: Sequence[IOSpec], spec: RunSpec) -> PreparedInputs:
    """Resolve shapes, check sizes, then generate (or load) the feeds; say what the batch is and why."""
    if spec.inputs_file:
        name = Path(spec.inputs_file).name
        feeds, notes, casts = _load_file(Path(spec.inputs_file), specs)
        notes += [f"{name}: {cast}" for cast in casts.values()]
        sources = {s.name: f"file:{name}" + (f" ({casts[s.name]})" if s.name in casts else "") for s in specs}
    else:
        shapes = resolve_shapes(specs, spec.shapes, spec.batch)
        check_size(specs, shapes, spec.max_input_bytes)
        try:
            feeds = generate(specs, shapes, spec.seed)
        except MemoryError as exc:
            raise ShapeError(
                "generated inputs exceed the memory available", hint="use a smaller --batch/--shape"
            ) from exc
        notes = []
        sources = {s.name: _source(s, spec.seed) for s in specs}
    batch, why = batch_of(specs, feeds, spec)
    infos = tuple(
        TensorInfo(
            s.name,
            str(feeds[s.name].dtype),
            tuple(int(d) for d in feeds[s.name].shape),
            sources[s.name],
            s.scale,
            s.zero_point,
        )
        for s in specs
    )
    return PreparedInputs(feeds, infos, batch, why, tuple(notes))


def _source(spec: IOSpec, seed: int) -> str:
    import numpy as np

    kind = np.dtype(_np_dtype(spec.dtype)).kind
    if kind == "f":
        return f"random(seed={seed}; uniform[-1,1))"
    if kind in "iu":
        lo, hi = int_range(spec, np.dtype(spec.dtype))
        quant = f", quantized scale={spec.scale:g} zero_point={spec.zero_point}" if spec.scale else ""
        return f"random(seed={seed}; integers [{lo},{hi}){quant})"
    return f"random(seed={seed}; bool p=0.5)"


def batch_of(specs: Sequence[IOSpec], feeds: Mapping[str, np.ndarray], spec: RunSpec) -> tuple[int, str]:
    """The batch only when someone said so: --batch, --batch-dim, or a dynamic leading dimension."""
    if not specs:
        return 1, "no inputs"
    first = specs[0]
    shape = feeds[first.name].shape
    if spec.batch_dim is not None:
        if spec.batch_dim >= len(shape):
            raise ShapeError(
                f"--batch-dim {spec.batch_dim} is beyond the rank {len(shape)} of {first.name!r}",
                hint=f"use an axis in 0..{max(len(shape) - 1, 0)}",
            )
        return int(shape[spec.batch_dim]), f"--batch-dim {spec.batch_dim} of {first.name}"
    if spec.batch is not None:
        return spec.batch, "--batch"
    dims = first.shape or ()
    if dims and not (isinstance(dims[0], int) and dims[0] > 0) and shape:
        return int(shape[0]), f"dynamic leading dimension of {first.name}"
    return 1, "fixed input shapes: figures are per call (give --batch-dim to say which axis is a batch)"


def _np_dtype(name: str) -> str:
    if name in ("bfloat16", "str"):
        raise UsageError(f"inputs of type {name} are not supported yet", hint="pass real inputs with --inputs")
    return name


@dataclass(frozen=True)
class QslSamples:
    """Real samples for LoadGen's QSL: one feeds dict per sample (views into the stacked arrays)."""

    feeds: tuple[dict[str, np.ndarray], ...]
    accepted: tuple[tuple[int, ...], ...] | None  # per sample; None: the file carries no labels
    source: str


def load_qsl(path: Path, specs: Sequence[IOSpec]) -> QslSamples | None:
    """The reserved QSL arrays of an inputs ``.npz`` (see QSL_PREFIX); None when it has none."""
    import numpy as np

    if path.suffix != ".npz" or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as loaded:
            keys = [k for k in loaded.files if k.startswith(QSL_PREFIX)]
            arrays = {k[len(QSL_PREFIX) :]: loaded[k] for k in keys}
    except (OSError, ValueError, EOFError) as exc:
        raise UsageError(f"cannot read inputs file {path}: {exc or type(exc).__name__}", hint="rerun --data") from exc
    stacked = {s.name: arrays.get(f"x.{s.name}") for s in specs}
    if not keys or any(v is None for v in stacked.values()):
        return None
    cast = {name: _cast(path.name, spec, x)[0] for spec in specs if (x := stacked[name := spec.name]) is not None}
    count = min(int(x.shape[0]) for x in cast.values()) if cast else 0
    feeds = tuple({name: x[i] for name, x in cast.items()} for i in range(count))
    accepted = None
    if "accepted" in arrays:
        table = arrays["accepted"].astype(np.int64, copy=False).reshape(len(arrays["accepted"]), -1)
        accepted = tuple(tuple(int(t) for t in row if t >= 0) for row in table[:count])
    source = str(arrays["source"]) if "source" in arrays else path.name
    return QslSamples(feeds, accepted, source)
