"""LiteRT (TensorFlow Lite) backend: ``ai_edge_litert.interpreter.Interpreter``, imported inside ``load`` only.

Options: :class:`LiteRTOptions` (``--backend-option KEY=VALUE``). XNNPACK is the default delegate the
interpreter applies on its own; ``xnnpack=false`` keeps TFLite's built-in optimized kernels and
``reference_kernels=true`` its reference kernels. Inputs are copied into the interpreter once, in
``prepare`` (TFLite's ``benchmark_model`` does the same before its loop), so the timed ``run`` is
``Invoke`` plus the copies of the outputs; ``inputs_each_run=true`` times the input copies too.

Quantized tensors carry ``scale``/``zero_point`` in their :class:`IOSpec`; :func:`dequantize` turns a
quantized output into real values for accuracy code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, model_validator

from edgebench.backends import import_runtime
from edgebench.errors import BackendError, ModelError, ShapeError
from edgebench.options import strict_config
from edgebench.protocols import Dim, IOSpec

if TYPE_CHECKING:
    import numpy as np

    from edgebench.backends.litert_compiled import CompiledSession
    from edgebench.records import JSONValue, RunSpec

# Interpreter(num_threads=None) hands the runtime int(None or 1): one thread, not "all cores".
_DEFAULT_THREADS = 1
_CUSTOM_OP = re.compile(r"unresolved custom op: ([^.\s]+)")


class LiteRTOptions(BaseModel):
    """LiteRT interpreter options (validated in the parent before any process starts)."""

    model_config = strict_config()

    xnnpack: bool = Field(True, description="let the interpreter apply its default XNNPACK delegate")
    reference_kernels: bool = Field(
        False, description="TFLite reference kernels (slow correctness baseline; needs xnnpack=false)"
    )
    signature: str | None = Field(None, description="SignatureDef key to run (default: the main subgraph)")
    inputs_each_run: bool = Field(
        False, description="copy the inputs into the interpreter inside every timed run (default: once, before)"
    )
    xnnpack_latest_features: bool = Field(
        False, description="let the default delegate use its flag-protected newest features"
    )
    api: Literal["auto", "interpreter", "compiled_model"] = Field(
        "auto",
        description="Interpreter or the CompiledModel API (auto: CompiledModel for --precision fp16, else Interpreter)",
    )

    @model_validator(mode="after")
    def _one_kernel_set(self) -> LiteRTOptions:
        if self.reference_kernels and self.xnnpack:
            raise ValueError("reference_kernels=true needs xnnpack=false (XNNPACK would replace them)")
        if self.api == "compiled_model" and not self.xnnpack:
            raise ValueError("api=compiled_model always runs on the XNNPACK CPU accelerator (use api=interpreter)")
        return self


@dataclass(frozen=True)
class _Tensor:
    name: str
    index: int
    spec: IOSpec
    per_channel: bool


@dataclass(frozen=True, eq=False)
class _Prepared:
    """What ``prepare`` returns; while it is the session's current one, its inputs are in the tensors."""

    feeds: Mapping[str, np.ndarray]


class LiteRTSession:
    def __init__(self, interpreter: Any, options: LiteRTOptions, threads: int, resolver: str) -> None:
        self._interpreter = interpreter
        # The wrapper's calls take a subgraph index, which the public Interpreter methods fix at 0; going
        # through it lets a signature's subgraph run without SignatureRunner.__call__, which resizes and
        # re-allocates every tensor on each call (that would be timed as inference).
        self._wrapper = interpreter._interpreter
        self._options = options
        self._threads = threads
        self._resolver = resolver
        self._signatures = sorted(interpreter.get_signature_list())
        self._subgraph, self._inputs, self._outputs = _graph(interpreter, options.signature, self._signatures)
        self._nodes = [str(self._wrapper.NodeName(i)) for i in range(int(self._wrapper.NumNodes()))]
        self._current: _Prepared | None = None  # whose inputs the interpreter's tensors hold now

    def inputs(self) -> Sequence[IOSpec]:
        return [t.spec for t in self._inputs]

    def outputs(self) -> Sequence[IOSpec]:
        return [t.spec for t in self._outputs]

    def prepare(self, feeds: Mapping[str, np.ndarray]) -> _Prepared:
        self._set_inputs(feeds)
        self._current = _Prepared(dict(feeds))
        return self._current

    def run(self, feeds: Any) -> Sequence[Any]:
        # The timed path is one identity test: the prepared inputs are still in the tensors. Anything
        # else (other feeds ran since, or inputs_each_run) copies them in first.
        if feeds is not self._current or self._options.inputs_each_run:
            self._set_inputs(feeds.feeds if isinstance(feeds, _Prepared) else feeds)
            self._current = feeds if isinstance(feeds, _Prepared) else None
        try:
            self._wrapper.Invoke(self._subgraph)
        except Exception as exc:  # the wrapper raises RuntimeError/ValueError with the runtime's message
            raise BackendError(f"LiteRT failed to run the model: {_first_line(exc)}") from exc
        # GetTensor copies (Interpreter.get_tensor documents it): outputs survive the next Invoke.
        return [self._wrapper.GetTensor(t.index, self._subgraph) for t in self._outputs]

    def effective(self) -> dict[str, JSONValue]:
        delegated = sum(1 for n in self._nodes if n == "DELEGATE")
        return {
            "threads": self._threads,
            "op_resolver": self._resolver,
            # Only the default delegate can appear: this backend loads no other, so DELEGATE nodes are XNNPACK.
            "xnnpack": delegated > 0,
            "delegates": ["XNNPACK"] if delegated else [],
            # A delegate adds one node per partition it takes over; the nodes it replaced stay listed, so
            # the model's own node count is the rest (how many of them still run on TFLite is not exposed).
            "delegate_partitions": delegated,
            "model_nodes": len(self._nodes) - delegated,
            "api": "interpreter",
            # float ops run fp32, quantized ops on integers: the model file decides (fp16 needs api=compiled_model)
            "precision": "fp32",
            "signature": self._options.signature,
            "signatures": list(self._signatures),
            "inputs_each_run": self._options.inputs_each_run,
            "per_channel_io": [t.name for t in (*self._inputs, *self._outputs) if t.per_channel],
        }

    def close(self) -> None:
        del self._wrapper
        del self._interpreter

    def _set_inputs(self, feeds: Mapping[str, np.ndarray]) -> None:
        missing = [t.name for t in self._inputs if t.name not in feeds]
        if missing:
            raise ShapeError(f"no data for LiteRT input(s) {', '.join(missing)}")
        if self._resize(feeds):
            try:
                self._wrapper.AllocateTensors(self._subgraph)
            except Exception as exc:
                raise BackendError(f"LiteRT could not allocate the resized tensors: {_first_line(exc)}") from exc
        self._copy_inputs(feeds)

    def _resize(self, feeds: Mapping[str, np.ndarray]) -> bool:
        """Resize the inputs whose shape differs from the interpreter's; True when any did."""
        import numpy as np

        changed = False
        for t in self._inputs:
            shape = np.asarray(feeds[t.name].shape, dtype=np.int32)
            if np.array_equal(self._wrapper.TensorSize(t.index, self._subgraph), shape):
                continue
            try:
                # strict: only the dimensions the model declares dynamic (-1) may change
                self._wrapper.ResizeInputTensor(t.index, shape, True, self._subgraph)
            except Exception as exc:
                raise ShapeError(
                    f"LiteRT cannot resize input {t.name!r} to {'x'.join(map(str, shape))}: {_first_line(exc)}"
                ) from exc
            changed = True
        return changed

    def _copy_inputs(self, feeds: Mapping[str, np.ndarray]) -> None:
        for t in self._inputs:
            try:
                self._wrapper.SetTensor(t.index, feeds[t.name], self._subgraph)
            except Exception as exc:
                raise BackendError(f"LiteRT refused input {t.name!r}: {_first_line(exc)}") from exc


class LiteRTBackend:
    name = "litert"
    formats = ("tflite",)
    Options = LiteRTOptions
    # fp16 is XNNPACK's FORCE_FP16 flag, which only the CompiledModel API can set; bf16 has no setting.
    precisions = ("fp32", "fp16")

    def load(self, model_path: Path, spec: RunSpec, options: LiteRTOptions) -> LiteRTSession | CompiledSession:
        api = _api(options, spec.precision)
        if api == "compiled_model":
            from edgebench.backends.litert_compiled import load_compiled

            return load_compiled(model_path, spec, options, _metadata_interpreter(model_path, options))
        module = _import_litert()
        resolver = _resolver_name(options)
        threads = spec.threads if spec.threads is not None else _DEFAULT_THREADS
        try:
            interpreter = module.Interpreter(
                model_path=str(model_path),
                num_threads=threads,
                experimental_op_resolver_type=getattr(module.OpResolverType, resolver),
                experimental_default_delegate_latest_features=options.xnnpack_latest_features,
            )
        except Exception as exc:
            raise ModelError(
                f"{model_path} is not a readable LiteRT model: {_first_line(exc)}",
                hint="check the file is a complete .tflite flatbuffer",
            ) from exc
        try:
            interpreter.allocate_tensors()
        except Exception as exc:
            raise _translate_prepare_error(exc, model_path) from exc
        return LiteRTSession(interpreter, options, threads, resolver)

    def versions(self) -> dict[str, str]:
        from importlib.metadata import PackageNotFoundError, version

        _import_litert()
        try:
            return {"ai-edge-litert": version("ai-edge-litert")}
        except PackageNotFoundError:  # imported from a source tree, not an installed distribution
            return {"ai-edge-litert": "unknown"}


def dequantize(spec: IOSpec, array: np.ndarray) -> np.ndarray:
    """Real values of a quantized tensor: scale·(q − zero_point); float tensors come back unchanged."""
    import numpy as np

    if not spec.scale:
        return np.asarray(array)
    real: np.ndarray = (np.asarray(array, dtype=np.float32) - np.float32(spec.zero_point or 0)) * np.float32(spec.scale)
    return real


def _api(options: LiteRTOptions, precision: str) -> str:
    if precision == "fp16" and options.api == "interpreter":
        raise BackendError(
            "--precision fp16 needs LiteRT's CompiledModel API (the Interpreter cannot set XNNPACK's FORCE_FP16)",
            hint="drop --backend-option api=interpreter",
        )
    if options.api == "auto":
        return "compiled_model" if precision == "fp16" else "interpreter"
    return options.api


def _metadata_interpreter(model_path: Path, options: LiteRTOptions) -> Any:
    """An unallocated Interpreter, only for tensor details (quantization, signatures) and load errors."""
    module = _import_litert()
    try:
        return module.Interpreter(
            model_path=str(model_path),
            num_threads=1,
            experimental_op_resolver_type=module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    except Exception as exc:
        raise ModelError(
            f"{model_path} is not a readable LiteRT model: {_first_line(exc)}",
            hint="check the file is a complete .tflite flatbuffer",
        ) from exc


def _import_litert() -> Any:
    return import_runtime("ai_edge_litert.interpreter", "pip install 'edgebench[litert]'")


def _resolver_name(options: LiteRTOptions) -> str:
    if options.reference_kernels:
        return "BUILTIN_REF"
    return "BUILTIN" if options.xnnpack else "BUILTIN_WITHOUT_DEFAULT_DELEGATES"


def _graph(
    interpreter: Any, signature: str | None, signatures: Sequence[str]
) -> tuple[int, list[_Tensor], list[_Tensor]]:
    """Subgraph index and its input/output tensors: the signature's when one is asked for, else subgraph 0."""
    if signature is None:
        inputs = interpreter.get_input_details()
        outputs = interpreter.get_output_details()
        return 0, _tensors(inputs, "input"), _tensors(outputs, "output")
    if signature not in signatures:
        raise ModelError(
            f"the model has no signature {signature!r}",
            hint=f"signatures: {', '.join(signatures) or 'none (omit signature)'}",
        )
    runner = interpreter.get_signature_runner(signature)
    subgraph = int(interpreter._interpreter.GetSubgraphIndexFromSignature(signature))
    inputs = _tensors(_named(runner.get_input_details()), "input")
    return subgraph, inputs, _tensors(_named(runner.get_output_details()), "output")


def _named(details: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A signature's tensors go by the signature's names, not the graph's tensor names."""
    return [{**d, "name": name} for name, d in details.items()]


def _tensors(details: Sequence[Mapping[str, Any]], kind: str) -> list[_Tensor]:
    # Tensor names may be empty (tests/data/model_invoking_error.tflite); feeds are keyed by name.
    out = []
    for position, d in enumerate(details):
        name = str(d["name"]) or f"{kind}_{position}"
        spec, per_channel = _io_spec(name, d)
        out.append(_Tensor(name, int(d["index"]), spec, per_channel))
    return out


def _io_spec(name: str, details: Mapping[str, Any]) -> tuple[IOSpec, bool]:
    import numpy as np

    signature = details.get("shape_signature")
    dims = signature if signature is not None and len(signature) == len(details["shape"]) else details["shape"]
    shape: tuple[Dim, ...] = tuple(None if int(d) < 0 else int(d) for d in dims)
    params = details["quantization_parameters"]
    scales, zero_points = params["scales"], params["zero_points"]
    if len(scales) == 0:
        return IOSpec(name, np.dtype(details["dtype"]).name, shape), False
    # Per-channel I/O quantization is rare; IOSpec holds one pair, so the first channel's is recorded
    # and effective()["per_channel_io"] names the tensor.
    spec = IOSpec(name, np.dtype(details["dtype"]).name, shape, float(scales[0]), int(zero_points[0]))
    return spec, len(scales) > 1


def _translate_prepare_error(exc: Exception, path: Path) -> Exception:
    text = str(exc)
    op = _CUSTOM_OP.search(text)
    if op:
        return ModelError(
            f"{path.name} uses the custom op {op.group(1)!r}, which LiteRT does not provide",
            hint="register the op with InterpreterWithCustomOps, or convert the model with builtin ops only",
        )
    return BackendError(f"LiteRT could not prepare {path.name}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
