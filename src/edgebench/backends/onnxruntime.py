"""ONNX Runtime backend. onnxruntime is imported only here, inside ``load`` (rule 5).

Options (``RunSpec.backend_options``; CLI flags of the same meaning):
  inter_op_threads   int
  graph_optimization  "disable" | "basic" | "extended" | "all" (default "all")
  execution_mode     "sequential" (default) | "parallel"
  providers          list of execution provider names (default ["CPUExecutionProvider"])
  cpu_mem_arena      bool (default true; recorded because the arena inflates RSS)
  session_config     {key: value} passed to SessionOptions.add_session_config_entry
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.errors import BackendError, BackendUnavailable, ModelError, UsageError
from edgebench.protocols import IOSpec

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime as ort

    from edgebench.records import RunSpec

_OPT_LEVELS = {
    "disable": "ORT_DISABLE_ALL",
    "basic": "ORT_ENABLE_BASIC",
    "extended": "ORT_ENABLE_EXTENDED",
    "all": "ORT_ENABLE_ALL",
}
_EXEC_MODES = {"sequential": "ORT_SEQUENTIAL", "parallel": "ORT_PARALLEL"}

# ORT reports tensor element types as "tensor(float)"; map to numpy dtype names.
_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(uint16)": "uint16",
    "tensor(int32)": "int32",
    "tensor(uint32)": "uint32",
    "tensor(int64)": "int64",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(bfloat16)": "bfloat16",
    "tensor(string)": "str",
}


class OrtSession:
    def __init__(self, session: ort.InferenceSession) -> None:
        self._session = session
        self._output_names = [o.name for o in session.get_outputs()]
        self.providers: list[str] = list(session.get_providers())

    def inputs(self) -> Sequence[IOSpec]:
        return [_io_spec(i) for i in self._session.get_inputs()]

    def outputs(self) -> Sequence[IOSpec]:
        return [_io_spec(o) for o in self._session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray]) -> Sequence[Any]:
        try:
            result: Sequence[Any] = self._session.run(self._output_names, feeds)
        except Exception as exc:  # ORT raises its own Fail/InvalidArgument types
            raise BackendError(f"onnxruntime failed to run the model: {_first_line(exc)}") from exc
        return result

    def close(self) -> None:
        del self._session


class OnnxRuntimeBackend:
    name = "onnxruntime"
    formats = ("onnx",)

    def load(self, model_path: Path, spec: RunSpec) -> OrtSession:
        ort = _import_ort()
        options = _session_options(ort, spec)
        providers = _providers(ort, spec.backend_options.get("providers"))
        try:
            session = ort.InferenceSession(str(model_path), sess_options=options, providers=providers)
        except Exception as exc:
            raise _translate_load_error(exc, model_path) from exc
        return OrtSession(session)

    def versions(self) -> dict[str, str]:
        return {"onnxruntime": _import_ort().__version__}


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise BackendUnavailable("onnxruntime is not installed", hint="pip install onnxruntime") from exc
    return onnxruntime


def _session_options(ort: Any, spec: RunSpec) -> Any:
    opts = ort.SessionOptions()
    bo = spec.backend_options
    if spec.threads is not None:
        opts.intra_op_num_threads = spec.threads
    if bo.get("inter_op_threads") is not None:
        opts.inter_op_num_threads = int(str(bo["inter_op_threads"]))
    level = str(bo.get("graph_optimization", "all"))
    mode = str(bo.get("execution_mode", "sequential"))
    if level not in _OPT_LEVELS:
        raise UsageError(f"unknown graph optimization level {level!r}", hint=f"use one of {list(_OPT_LEVELS)}")
    if mode not in _EXEC_MODES:
        raise UsageError(f"unknown execution mode {mode!r}", hint=f"use one of {list(_EXEC_MODES)}")
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _OPT_LEVELS[level])
    opts.execution_mode = getattr(ort.ExecutionMode, _EXEC_MODES[mode])
    opts.enable_cpu_mem_arena = bool(bo.get("cpu_mem_arena", True))
    config = bo.get("session_config") or {}
    if isinstance(config, dict):
        for key, value in config.items():
            opts.add_session_config_entry(str(key), str(value))
    return opts


def _providers(ort: Any, requested: Any) -> list[str]:
    wanted = [str(p) for p in (requested or ["CPUExecutionProvider"])]
    available = ort.get_available_providers()
    missing = [p for p in wanted if p not in available]
    if missing:
        raise BackendUnavailable(
            f"execution provider {', '.join(missing)} is not available in this onnxruntime build",
            hint=f"available: {', '.join(available)}; install the matching onnxruntime package (e.g. onnxruntime-gpu)",
        )
    return wanted


def _translate_load_error(exc: Exception, path: Path) -> Exception:
    text = _first_line(exc)
    if "INVALID_PROTOBUF" in text or "Protobuf parsing failed" in text or "NO_SUCHFILE" in text:
        return ModelError(f"{path} is not a readable ONNX model: {text}", hint="check the file is a complete .onnx")
    return BackendError(f"onnxruntime could not load {path.name}: {text}")


def _io_spec(node: Any) -> IOSpec:
    shape = tuple(d if isinstance(d, int | str) or d is None else None for d in (node.shape or []))
    return IOSpec(node.name, _ORT_TYPES.get(node.type, node.type), shape)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
