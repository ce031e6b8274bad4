"""LiteRT's CompiledModel API (``ai_edge_litert.compiled_model``), the newer path beside the Interpreter.

Why it is here: it is the only Python API that passes flags to XNNPACK, so ``--precision fp16`` (XNNPACK's
``FORCE_FP16``: fp32 operators run in half precision) goes through it. It runs on the XNNPACK CPU
accelerator. Tensor details (quantization, signature names) come from an unallocated Interpreter on the
same file, because CompiledModel reports only name, dtype and shape.

Like the Interpreter session, inputs are written into the input buffers once, in ``prepare``; the timed
``run`` is ``run_by_index`` plus reading the outputs back (a copy each, as ``litert-benchmark`` does not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.backends import import_runtime
from edgebench.backends.litert import (
    LiteRTOptions,
    _first_line,
    _named,
    _Tensor,
    _tensors,
    _translate_prepare_error,
)
from edgebench.errors import BackendError, ModelError, ShapeError
from edgebench.protocols import IOSpec

if TYPE_CHECKING:
    import numpy as np

    from edgebench.records import JSONValue, RunSpec

# TfLiteXNNPackDelegateOptions flags (tensorflow/lite/delegates/xnnpack/xnnpack_delegate.h): the default
# delegate enables signed and unsigned 8-bit kernels; fp16 adds FORCE_FP16 to them.
XNNPACK_FLAG_QS8, XNNPACK_FLAG_QU8, XNNPACK_FLAG_FORCE_FP16 = 0x1, 0x2, 0x4
_PLACEHOLDER = "<placeholder signature>"  # what CompiledModel calls the main graph of a model without signatures


@dataclass(frozen=True, eq=False)
class _Prepared:
    feeds: Mapping[str, np.ndarray]


class CompiledSession:
    def __init__(
        self, model: Any, signature: str, inputs: list[_Tensor], outputs: list[_Tensor], config: dict[str, Any]
    ) -> None:
        self._model = model
        self._signature = signature
        self._index = int(model.get_signature_index(signature))
        self._inputs, self._outputs = inputs, outputs
        self._config = config
        self._in_buffers = model.create_input_buffers(self._index)
        self._out_buffers = model.create_output_buffers(self._index)
        self._out_shapes = _output_shapes(model, signature, outputs)
        self._current: _Prepared | None = None

    def inputs(self) -> Sequence[IOSpec]:
        return [t.spec for t in self._inputs]

    def outputs(self) -> Sequence[IOSpec]:
        return [t.spec for t in self._outputs]

    def prepare(self, feeds: Mapping[str, np.ndarray]) -> _Prepared:
        self._write(feeds)
        self._current = _Prepared(dict(feeds))
        return self._current

    def run(self, feeds: Any) -> Sequence[Any]:
        if feeds is not self._current or self._config["inputs_each_run"]:
            self._write(feeds.feeds if isinstance(feeds, _Prepared) else feeds)
            self._current = feeds if isinstance(feeds, _Prepared) else None
        try:
            self._model.run_by_index(self._index, self._in_buffers, self._out_buffers)
        except Exception as exc:
            raise BackendError(f"LiteRT CompiledModel failed to run the model: {_first_line(exc)}") from exc
        return [
            self._read(buf, t, shape)
            for buf, t, shape in zip(self._out_buffers, self._outputs, self._out_shapes, strict=True)
        ]

    def effective(self) -> dict[str, JSONValue]:
        return {
            "api": "compiled_model",
            "threads": self._config["threads"],
            "accelerator": "CPU (XNNPACK)",
            "xnnpack": True,
            "xnnpack_flags": self._config["flags_text"],
            "fully_accelerated": bool(self._model.is_fully_accelerated()),
            # FORCE_FP16 is honoured on every CPU: where there is no native fp16 arithmetic XNNPACK keeps
            # fp16 tensors and converts around fp32 arithmetic, so the numbers are fp16's either way.
            "precision": self._config["precision"],
            "signature": None if self._signature == _PLACEHOLDER else self._signature,
            "inputs_each_run": self._config["inputs_each_run"],
        }

    def close(self) -> None:
        self._in_buffers = self._out_buffers = []
        self._model.close()

    def _write(self, feeds: Mapping[str, np.ndarray]) -> None:
        missing = [t.name for t in self._inputs if t.name not in feeds]
        if missing:
            raise ShapeError(f"no data for LiteRT input(s) {', '.join(missing)}")
        for buf, t in zip(self._in_buffers, self._inputs, strict=True):
            array = feeds[t.name]
            if any(d is not None and d != s for d, s in zip(t.spec.shape or (), array.shape, strict=False)):
                raise ShapeError(
                    f"LiteRT CompiledModel input {t.name!r} is {t.spec.shape}, got {array.shape}",
                    hint="the CompiledModel path runs the model's own shapes; use --backend-option api=interpreter",
                )
            try:
                buf.write(array)
            except Exception as exc:
                raise BackendError(f"LiteRT refused input {t.name!r}: {_first_line(exc)}") from exc

    def _read(self, buf: Any, tensor: _Tensor, shape: tuple[int, ...]) -> np.ndarray:
        import numpy as np

        count = int(np.prod(shape)) if shape else 1
        out: np.ndarray = np.asarray(buf.read(count, np.dtype(tensor.spec.dtype))).reshape(shape)
        return out


def load_compiled(model_path: Path, spec: RunSpec, options: LiteRTOptions, meta: Any) -> CompiledSession:
    """CompiledModel on the CPU accelerator, with the signature's tensors described by ``meta`` (an Interpreter)."""
    cm = import_runtime("ai_edge_litert.compiled_model", "pip install 'edgebench[litert]'")
    from ai_edge_litert.cpu_options import CpuOptions
    from ai_edge_litert.hardware_accelerator import HardwareAccelerator
    from ai_edge_litert.options import Options

    threads = spec.threads if spec.threads is not None else 1  # as the Interpreter path: one, not "all"
    fp16 = spec.precision == "fp16"
    flags = XNNPACK_FLAG_QS8 | XNNPACK_FLAG_QU8 | XNNPACK_FLAG_FORCE_FP16 if fp16 else None
    cpu = CpuOptions(num_threads=threads, xnnpack_flags=flags)
    try:
        model = cm.CompiledModel.from_file(
            str(model_path), options=Options(hardware_accelerators=HardwareAccelerator.CPU, cpu_options=cpu)
        )
    except Exception as exc:
        raise ModelError(
            f"LiteRT CompiledModel could not compile {model_path.name}: {_first_line(exc)}",
            hint="try --backend-option api=interpreter (custom ops need the Interpreter)",
        ) from exc
    signature = _signature(model, options.signature)
    try:
        inputs, outputs = _details(meta, signature, model)
        _output_shapes(model, signature, outputs)
    except Exception as exc:  # e.g. a custom op: CompiledModel compiles lazily and fails on first use
        raise _why(meta, model_path, exc) from exc
    config = {
        "threads": threads,
        "precision": "fp16" if fp16 else "fp32",
        "flags_text": "QS8|QU8|FORCE_FP16" if fp16 else "runtime default",
        "inputs_each_run": options.inputs_each_run,
    }
    return CompiledSession(model, signature, inputs, outputs, config)


def _why(meta: Any, model_path: Path, exc: Exception) -> Exception:
    """The Interpreter says why a model cannot run (it names custom ops); CompiledModel's codes do not."""
    try:
        meta.allocate_tensors()
    except Exception as reason:
        return _translate_prepare_error(reason, model_path)
    return BackendError(f"LiteRT CompiledModel cannot run {model_path.name}: {_first_line(exc)}")


def _signature(model: Any, wanted: str | None) -> str:
    keys = list(model.get_signature_list())
    if wanted is None:
        return str(keys[0])
    if wanted not in keys:
        raise ModelError(
            f"the model has no signature {wanted!r}",
            hint=f"signatures: {', '.join(k for k in keys if k != _PLACEHOLDER) or 'none (omit signature)'}",
        )
    return wanted


def _details(meta: Any, signature: str, model: Any) -> tuple[list[_Tensor], list[_Tensor]]:
    """Inputs/outputs in CompiledModel's buffer order, with the Interpreter's quantization parameters."""
    if signature == _PLACEHOLDER:
        ins, outs = _tensors(meta.get_input_details(), "input"), _tensors(meta.get_output_details(), "output")
    else:
        runner = meta.get_signature_runner(signature)
        ins = _tensors(_named(runner.get_input_details()), "input")
        outs = _tensors(_named(runner.get_output_details()), "output")
    names = model.get_signature_list()[signature]
    return _ordered(ins, names["inputs"]), _ordered(outs, names["outputs"])


def _ordered(tensors: list[_Tensor], names: Sequence[str]) -> list[_Tensor]:
    by_name = {t.name: t for t in tensors}
    if len(names) == len(tensors) and all(n in by_name for n in names):
        return [by_name[n] for n in names]
    return tensors  # unnamed tensors (placeholder names): the Interpreter's order is the buffer order


def _output_shapes(model: Any, signature: str, outputs: list[_Tensor]) -> list[tuple[int, ...]]:
    details = model.get_output_tensor_details(signature)
    return [tuple(int(d) for d in details.get(t.name, {}).get("shape", t.spec.shape or ())) for t in outputs]
