"""Evaluate a classifier on a dataset through any backend plugin (so accuracy means the same on every runtime).

One sample per call (most edge models have a fixed batch of 1). Integer outputs are dequantized
with their scale/zero point; rows that are not probabilities are softmaxed for the scores shown.
Unreadable images are skipped and counted; label problems (out of range, a labels file that does
not match the model's classes) stop the evaluation with one clear error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from edgebench.accuracy.datasets import Dataset, Item, dataset_sha256, open_dataset
from edgebench.accuracy.labels import Labels, imagenet, load_labels, offset_for
from edgebench.accuracy.metrics import load_metric, run_metric, wilson
from edgebench.accuracy.preprocess import (
    Scaling,
    apply,
    from_array,
    get_preset,
    image_size,
    layout_of,
    open_image,
    to_input,
)
from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from edgebench.protocols import IOSpec, Session
    from edgebench.records import Accuracy


@dataclass(frozen=True)
class Prediction:
    name: str
    top: tuple[tuple[int, str, float], ...]  # (output index, label, probability), best first
    accepted: tuple[int, ...]  # right answers as output indices; () = unlabelled
    top1: bool | None
    top5: bool | None


@dataclass(frozen=True)
class Evaluation:
    model: str
    backend: str
    dataset: str
    dataset_sha256: str
    preprocess: str
    labels: str  # which label names/convention, e.g. "imagenet-1k (built in); model has 1001 outputs, +1"
    classes: int  # the model's output classes
    samples: int  # evaluated (skipped ones excluded)
    skipped: int
    top1_correct: int | None
    top5_correct: int | None
    predictions: tuple[Prediction, ...]
    warnings: tuple[str, ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    outputs: Any = field(default=None, compare=False, repr=False)  # float [samples, classes]
    first_input: Any = field(default=None, compare=False, repr=False)  # batch-1 feed of the first sample
    input_name: str = ""

    def _rate(self, correct: int | None) -> float | None:
        return None if correct is None or self.samples == 0 else correct / self.labelled

    @property
    def labelled(self) -> int:
        return sum(1 for p in self.predictions if p.accepted)

    @property
    def top1(self) -> float | None:
        return self._rate(self.top1_correct)

    @property
    def top5(self) -> float | None:
        return self._rate(self.top5_correct)

    @property
    def top1_ci95(self) -> tuple[float, float] | None:
        return None if self.top1_correct is None else wilson(self.top1_correct, self.labelled)

    @property
    def top5_ci95(self) -> tuple[float, float] | None:
        return None if self.top5_correct is None else wilson(self.top5_correct, self.labelled)

    def to_json(self) -> dict[str, Any]:
        """The stable ``eval --json`` document (docs/accuracy.md)."""
        return {
            "top1": self.top1,
            "top5": self.top5,
            "top1_ci95": list(self.top1_ci95) if self.top1_ci95 else None,
            "samples": self.samples,
            "skipped": self.skipped,
            "preprocess": self.preprocess,
            "labels": self.labels,
            "predictions": [
                {
                    "name": p.name,
                    "top": [{"index": i, "label": label, "score": score} for i, label, score in p.top],
                    "accepted": list(p.accepted),
                    "top1": p.top1,
                    "top5": p.top5,
                }
                for p in self.predictions
            ],
            "top5_ci95": list(self.top5_ci95) if self.top5_ci95 else None,
            "model": self.model,
            "backend": self.backend,
            "dataset": self.dataset,
            "dataset_sha256": self.dataset_sha256,
            "classes": self.classes,
            "metrics": self.metrics,
            "warnings": list(self.warnings),
        }

    def to_accuracy(self) -> Accuracy:
        from edgebench._frozen import FrozenMap
        from edgebench.records import Accuracy

        return Accuracy(
            dataset=self.dataset,
            samples=self.samples,
            preprocess=self.preprocess,
            top1=self.top1,
            top5=self.top5,
            top1_ci95=self.top1_ci95,
            labels=self.labels,
            skipped=self.skipped,
            top5_ci95=self.top5_ci95,
            top1_correct=self.top1_correct,
            top5_correct=self.top5_correct,
            dataset_sha256=self.dataset_sha256,
            classes=self.classes,
            metrics=FrozenMap(self.metrics),
        )


@dataclass
class Runner:
    """A loaded session and what the evaluation needs to feed it."""

    session: Session
    input: IOSpec
    output: IOSpec
    model: str
    backend: str
    zoo_preset: str | None

    def run(self, x: np.ndarray) -> np.ndarray:
        from edgebench.protocols import Preparable

        feeds = {self.input.name: x}
        prepared = self.session.prepare(feeds) if isinstance(self.session, Preparable) else feeds
        return _dequantize(self.output, self.session.run(prepared)[0])

    def close(self) -> None:
        self.session.close()


def open_runner(
    model: str,
    *,
    backend: str = "onnxruntime",
    threads: int | None = None,
    backend_options: dict[str, Any] | None = None,
    cache_dir: Path | None = None,
    precision: Literal["fp32", "fp16", "bf16"] = "fp32",
) -> Runner:
    """Resolve ``model`` (zoo name or file) and load it with the backend plugin, in this process."""
    from edgebench import options, registry
    from edgebench._frozen import FrozenMap
    from edgebench.engine.bench import make_job
    from edgebench.engine.validate import typed_options
    from edgebench.records import RunSpec
    from edgebench.zoo.catalog import ZOO

    plugin = registry.load("edgebench.backends", backend)
    # CLI strings are coerced by the field's type; values from a RunSpec are already typed
    raw = dict(backend_options or {})
    given = {**raw, **options.coerce_strings(plugin.Options, {k: v for k, v in raw.items() if isinstance(v, str)})}
    spec = RunSpec(model=model, backend=backend, threads=threads, precision=precision, backend_options=FrozenMap(given))
    job = make_job(spec, cache_dir, False)
    session = plugin().load(Path(job.spec.model_path), job.spec, typed_options("edgebench.backends", backend, given))
    try:
        ins, outs = list(session.inputs()), list(session.outputs())
        if len(ins) != 1 or not outs:
            raise UsageError(
                f"accuracy needs a model with one input and an output; this one has {len(ins)} input(s)",
                hint="evaluate multi-input models with a custom script and edgebench.accuracy.agreement",
            )
    except BaseException:
        with contextlib.suppress(Exception):
            session.close()
        raise
    entry = ZOO.get(model)
    return Runner(session, ins[0], outs[0], model, backend, entry.preset if entry else None)


def evaluate(
    model: str,
    data: str = "builtin",
    *,
    backend: str = "onnxruntime",
    preprocess: str | None = None,
    labels: Path | None = None,
    limit: int | None = None,
    metric: str | None = None,
    top: int = 5,
    threads: int | None = None,
    backend_options: dict[str, Any] | None = None,
    cache_dir: Path | None = None,
    precision: Literal["fp32", "fp16", "bf16"] = "fp32",
) -> Evaluation:
    """Top-1/top-5 of ``model`` on ``data`` (see :func:`edgebench.accuracy.datasets.open_dataset`)."""
    if limit is not None and limit < 1:
        raise UsageError(f"--limit must be ≥ 1, got {limit}", hint="e.g. --limit 100")
    user_labels = load_labels(labels) if labels is not None else None
    dataset = open_dataset(data, user_labels, limit)
    hook = load_metric(metric) if metric else None
    with _quiet_runtime():
        runner = open_runner(
            model,
            backend=backend,
            threads=threads,
            backend_options=backend_options,
            cache_dir=cache_dir,
            precision=precision,
        )
        try:
            result = evaluate_with(runner, dataset, preprocess=preprocess, user_labels=user_labels, top=top)
        finally:
            runner.close()
    if hook is not None and metric is not None and result.outputs is not None:
        import numpy as np

        targets = np.asarray([min(p.accepted) if p.accepted else -1 for p in result.predictions], dtype=np.int64)
        from dataclasses import replace

        result = replace(result, metrics=run_metric(hook, metric, result.outputs, targets))
    return result


@contextlib.contextmanager
def _quiet_runtime() -> Iterator[None]:
    """Runtimes' C++ logs (XNNPACK banners, ORT warnings) go to a temporary file, not the terminal."""
    import tempfile

    from edgebench.engine.logcapture import capture_fd2

    with tempfile.TemporaryDirectory(prefix="edgebench-eval-") as tmp, capture_fd2(Path(tmp) / "runtime.log"):
        yield


def evaluate_with(
    runner: Runner, dataset: Dataset, *, preprocess: str | None = None, user_labels: Labels | None = None, top: int = 5
) -> Evaluation:
    import numpy as np

    preset_name, warnings = _choose_preset(runner, dataset, preprocess)
    names: list[str] = []
    rows: list[np.ndarray] = []
    kept: list[Item] = []
    first: np.ndarray | None = None
    for item in dataset.items:
        try:
            x = _tensor(item, runner.input, preset_name)
        except ValueError as exc:
            warnings.append(f"skipped {exc}")
            continue
        first = x if first is None else first
        rows.append(runner.run(x).reshape(-1).astype(np.float64))
        kept.append(item)
        names.append(item.name)
    if not rows:
        raise UsageError(
            f"no sample of {dataset.name} could be read ({len(dataset.items)} skipped)",
            hint="check the image files (JPEG/PNG/BMP) or the dataset format",
        )
    outputs = _stack(rows)
    classes = outputs.shape[1]
    target_offset, display, display_offset, label_text = _label_plan(dataset, user_labels, classes)
    predictions = _predictions(kept, outputs, classes, target_offset, display, display_offset, top)
    labelled = [p for p in predictions if p.accepted]
    return Evaluation(
        model=runner.model,
        backend=runner.backend,
        dataset=dataset.name,
        dataset_sha256=dataset_sha256(dataset),
        preprocess="tensor (as stored)" if dataset.tensors else preset_name,
        labels=label_text,
        classes=classes,
        samples=len(predictions),
        skipped=len(dataset.items) - len(predictions),
        top1_correct=sum(bool(p.top1) for p in labelled) if labelled else None,
        top5_correct=sum(bool(p.top5) for p in labelled) if labelled else None,
        predictions=tuple(predictions),
        warnings=tuple(warnings),
        outputs=outputs.astype(np.float32),
        first_input=first,
        input_name=runner.input.name,
    )


def _choose_preset(runner: Runner, dataset: Dataset, preprocess: str | None) -> tuple[str, list[str]]:
    warnings: list[str] = []
    if preprocess is not None:
        get_preset(preprocess)  # unknown name → UsageError listing the presets
        if dataset.tensors:
            warnings.append(f"--preprocess {preprocess} ignored: {dataset.name} holds ready tensors")
        return preprocess, warnings
    if runner.zoo_preset:
        return runner.zoo_preset, warnings
    if runner.input.dtype in ("uint8", "int8"):
        return "raw-uint8", warnings
    if not dataset.tensors:
        warnings.append("the model does not say how it was preprocessed: using 'tf' ((x-127)/128); see --preprocess")
    return "tf", warnings


def _tensor(item: Item, spec: IOSpec, preset_name: str) -> np.ndarray:
    """The batch-1 feed for one item; ValueError (skipped and counted) for an unreadable image."""
    import numpy as np

    if item.tensor is not None:
        return _fit_tensor(np.asarray(item.tensor), spec)
    preset = get_preset(preset_name)
    img = from_array(item.pixels) if item.pixels is not None else open_image(item.path or Path(item.name))
    layout = layout_of(spec)
    x = apply(img, preset, image_size(spec, layout), layout)[np.newaxis]
    scaling: Scaling = preset.scaling
    return to_input(x, spec, scaling)


def _fit_tensor(x: np.ndarray, spec: IOSpec) -> np.ndarray:
    import numpy as np

    shape = tuple(d if isinstance(d, int) and d > 0 else 1 for d in (spec.shape or x.shape))
    if int(np.prod(shape)) != x.size:
        raise UsageError(
            f"a sample of shape {x.shape} does not fit the model input {spec.name!r} {spec.shape}",
            hint="store x preprocessed for this model (samples on axis 0)",
        )
    return to_input(x.reshape(shape).astype(np.float32, copy=False), spec, "unit")


def _dequantize(spec: IOSpec, value: Any) -> np.ndarray:
    import numpy as np

    array = np.asarray(value)
    if spec.scale and array.dtype.kind in "iu":
        real: np.ndarray = (array.astype(np.float64) - (spec.zero_point or 0)) * spec.scale
        return real
    return array


def _stack(rows: list[np.ndarray]) -> np.ndarray:
    import numpy as np

    sizes = {r.size for r in rows}
    if len(sizes) != 1:
        raise UsageError(f"the model's output size changed between samples: {sorted(sizes)}", hint="fixed outputs only")
    return np.stack(rows)


def _label_plan(dataset: Dataset, user: Labels | None, classes: int) -> tuple[int, Labels | None, int, str]:
    """(target offset, display labels, display offset, description) for a model with ``classes`` outputs."""
    target_space = dataset.labels
    target_offset = offset_for(target_space, classes) if target_space is not None else 0
    display = user or target_space
    if display is None and classes in (1000, 1001):
        display = imagenet()
    display_offset = 0
    if display is not None:
        try:
            display_offset = offset_for(display, classes)
        except UsageError:
            if user is not None:
                raise
            display = None
    text = display.source if display is not None else "class indices"
    text += f"; model has {classes} outputs"
    if display is not None and display_offset:
        text += " (background at 0)" if display_offset == 1 else " (labels' background dropped)"
    return target_offset, display, display_offset, text


def _predictions(
    items: list[Item],
    outputs: np.ndarray,
    classes: int,
    target_offset: int,
    display: Labels | None,
    display_offset: int,
    top: int,
) -> list[Prediction]:
    import numpy as np

    from edgebench.engine.agreement import probabilities

    probs = probabilities(outputs)
    k = max(1, min(top, classes))
    result = []
    for item, row in zip(items, probs, strict=True):
        accepted = tuple(sorted(t + target_offset for t in item.accepted))
        bad = [t for t in accepted if not 0 <= t < classes]
        if bad:
            raise UsageError(
                f"label index {bad[0] - target_offset} of {item.name} is out of range "
                f"for a model with {classes} classes",
                hint="check the labels (0-based indices) or pass the model's labels file with --labels",
            )
        order = np.argsort(-row, kind="stable")
        best = [int(i) for i in order[:k]]
        top5 = {int(i) for i in order[: min(5, classes)]}
        shown = tuple((i, _name(display, i - display_offset, i), float(row[i])) for i in best)
        result.append(
            Prediction(
                item.name,
                shown,
                accepted,
                (int(order[0]) in accepted) if accepted else None,
                bool(top5 & set(accepted)) if accepted else None,
            )
        )
    return result


def _name(labels: Labels | None, index: int, raw: int) -> str:
    if labels is None:
        return f"class {raw}"
    if index < 0:
        return "background"
    return labels.name(index)
