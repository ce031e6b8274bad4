"""The numerical check of a conversion: source and converted model on the same real inputs.

Inputs are the built-in sample photos (:func:`edgebench.accuracy.builtin_samples`, TF-style
preprocessing) when the source's first input looks like an image (``[N,3,H,H]`` or ``[N,H,H,3]``), else
seeded random values of the input's shape. Each sample runs as its own batch-1 call on each model's
own backend (torch, onnxruntime, openvino, litert — FP32 execution), and the outputs are compared with
:func:`edgebench.accuracy.agreement` (max-abs diff, top-1 agreement over the last axis).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from edgebench.convert.base import ConvertOptions, NumericCheck
from edgebench.errors import EdgebenchError, UsageError

if TYPE_CHECKING:
    import numpy as np

BACKEND_FOR_FORMAT = {
    "pyfactory": "torch",
    "torchscript": "torch",
    "exported_program": "torch",
    "onnx": "onnxruntime",
    "openvino": "openvino",
    "tflite": "litert",
}
RANDOM_SAMPLES = 4
DATA_LIMIT = 64  # samples read from --data: enough for a top-1 agreement to mean something, still quick


@dataclass(frozen=True)
class CheckData:
    """Real inputs for the check instead of the built-in photos: a dataset location (--data) and a preset."""

    location: str
    preprocess: str = "tf"
    limit: int = DATA_LIMIT


def check_conversion(
    source: Path,
    source_fmt: str,
    output: Path,
    output_fmt: str,
    options: ConvertOptions,
    data: CheckData | None = None,
) -> NumericCheck:
    """Compare ``output`` with ``source``; a model that cannot run becomes a check with a note, not an error.

    A bad ``data`` location is the user's error and is raised (UsageError), not turned into a note.
    """
    if data is not None:
        from edgebench.accuracy.datasets import open_dataset

        open_dataset(data.location, limit=1)  # a wrong --data fails loudly, before any model runs
    try:
        samples, label, ref = _reference(source, source_fmt, options, data)
    except UsageError:
        raise  # --data that does not fit the model: the user must hear it
    except EdgebenchError as exc:
        return NumericCheck("none", 0, None, None, note=f"source not runnable for the check: {exc.message}")
    try:
        session = open_session(output, output_fmt)
        try:
            other = _run_all(session, samples)
        finally:
            session.close()
    except EdgebenchError as exc:
        return NumericCheck(label, len(samples), None, None, note=f"converted model did not run: {exc.message}")
    return compare(ref, other, label)


# The deploy matrix checks several targets against one source: run the source once per process.
_REFERENCES: dict[tuple[str, int, int, str, str], tuple[list[np.ndarray], str, np.ndarray]] = {}


def _reference(
    source: Path, fmt: str, options: ConvertOptions, data: CheckData | None
) -> tuple[list[np.ndarray], str, np.ndarray]:
    stat = source.stat()
    key = (str(source.resolve()), stat.st_size, stat.st_mtime_ns, repr(sorted(options.shapes.items())), repr(data))
    if key not in _REFERENCES:
        session = open_session(source, fmt)
        try:
            samples, label = sample_inputs(session.inputs()[0], options, data)
            _REFERENCES[key] = (samples, label, _run_all(session, samples))
        finally:
            session.close()
    return _REFERENCES[key]


def compare(ref: np.ndarray, other: np.ndarray, label: str) -> NumericCheck:
    from edgebench.accuracy import agreement

    if ref.shape != other.shape:
        note = f"output shapes differ: {ref.shape} vs {other.shape}"
        return NumericCheck(label, len(ref), None, None, note=note)
    result = agreement(ref.reshape(len(ref), -1), other.reshape(len(other), -1))
    return NumericCheck(label, result.samples, result.max_abs, result.top1_agreement, cosine=result.cosine)


def open_session(path: Path, fmt: str) -> Any:
    from edgebench import registry
    from edgebench.records import RunSpec

    name = BACKEND_FOR_FORMAT[fmt]
    plugin = registry.load("edgebench.backends", name)
    spec = RunSpec(model=str(path), model_path=str(path), backend=name)
    return plugin().load(path, spec, plugin.Options())


def sample_inputs(spec: Any, options: ConvertOptions, data: CheckData | None = None) -> tuple[list[np.ndarray], str]:
    """Batch-1 inputs: ``data`` or the built-in photos for image-like inputs, else seeded random arrays."""
    import numpy as np

    shape = _shape(spec, options)
    dtype = np.dtype(spec.dtype if spec.dtype in ("float32", "float16", "float64") else "float32")
    layout = _image_layout(shape)
    if data is not None:
        return _dataset_inputs(data, shape, layout, dtype)
    if layout is not None:
        from edgebench.accuracy import builtin_samples

        size = shape[2] if layout == "NCHW" else shape[1]
        x, samples = builtin_samples(preprocess="tf", size=size, layout=layout)
        return [x[i : i + 1].astype(dtype) for i in range(len(x))], f"builtin-images({len(samples)}, tf, {size})"
    rng = np.random.default_rng(0)
    arrays = [rng.uniform(-1, 1, size=shape).astype(dtype) for _ in range(RANDOM_SAMPLES)]
    return arrays, f"random(seed=0, n={RANDOM_SAMPLES}, uniform[-1,1))"


def _dataset_inputs(
    data: CheckData, shape: tuple[int, ...], layout: Literal["NCHW", "NHWC"] | None, dtype: np.dtype[Any]
) -> tuple[list[np.ndarray], str]:
    """Images preprocessed for the input (size and layout from its shape); tensor datasets fed as they are."""
    import numpy as np

    from edgebench.accuracy.datasets import open_dataset
    from edgebench.accuracy.preprocess import apply, from_array, get_preset, open_image
    from edgebench.errors import UsageError

    dataset = open_dataset(data.location, limit=data.limit)
    preset = get_preset(data.preprocess)
    arrays = []
    for item in dataset.items:
        if item.tensor is not None:
            arrays.append(np.asarray(item.tensor, dtype=dtype).reshape(shape))
            continue
        if layout is None:
            raise UsageError(
                f"--data {data.location} holds images, but the model's input {shape} is not an image",
                hint="give a dataset of tensors (.npz) or drop --data",
            )
        img = open_image(item.path) if item.path is not None else from_array(item.pixels)
        size = shape[2] if layout == "NCHW" else shape[1]
        arrays.append(apply(img, preset, size, layout)[None].astype(dtype))
    return arrays, f"{dataset.name}({len(arrays)}, {data.preprocess})"


def _shape(spec: Any, options: ConvertOptions) -> tuple[int, ...]:
    from edgebench.errors import ShapeError

    if spec.name in options.shapes:
        given = tuple(options.shapes[spec.name])
        return (1, *given[1:]) if given else given
    if spec.shape is None:
        raise ShapeError(f"input {spec.name!r} has no recorded shape", hint=f"give --shape {spec.name}=1x…")
    dims = tuple(d if isinstance(d, int) else 1 for d in spec.shape)
    return (1, *dims[1:]) if dims else dims


def _image_layout(shape: tuple[int, ...]) -> Literal["NCHW", "NHWC"] | None:
    if len(shape) != 4:
        return None
    if shape[1] == 3 and shape[2] == shape[3] >= 8:
        return "NCHW"
    if shape[3] == 3 and shape[1] == shape[2] >= 8:
        return "NHWC"
    return None


def _run_all(session: Any, samples: list[np.ndarray]) -> np.ndarray:
    import numpy as np

    name = session.inputs()[0].name
    feeds_dtype = session.inputs()[0].dtype
    rows = []
    for x in samples:
        feed = x.astype(feeds_dtype) if feeds_dtype in ("float16", "float32", "float64") else x
        outputs = session.run({name: feed})
        rows.append(np.asarray(outputs[0], dtype=np.float64))
    return np.concatenate(rows, axis=0) if rows and rows[0].ndim else np.stack(rows)
