"""ONNX Runtime backend. onnxruntime is imported only here, inside ``load`` (rule 5).

Options: :class:`Options` (``--backend-option KEY=VALUE``; the ORT-only CLI flags ``--ep``,
``--graph-opt``, ``--execution-mode``, ``--inter-op-threads``, ``--session-config``, ``--no-arena``
are sugar for the same fields). The session reports what ORT actually uses after load
(:meth:`OrtSession.effective`): providers in order, provider options, threads, optimization level.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from edgebench.backends import import_runtime
from edgebench.errors import BackendError, BackendUnavailable, ModelError
from edgebench.options import strict_config
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
# RunSpec.runtime_log_level → ORT log severity (0 verbose … 4 fatal)
_LOG_SEVERITY = {"verbose": 0, "info": 1, "warning": 2, "error": 3, "fatal": 4}


class OrtOptions(BaseModel):
    """ONNX Runtime session options (validated in the parent before any process starts)."""

    model_config = strict_config()

    providers: tuple[str, ...] = Field(
        ("CPUExecutionProvider",), min_length=1, description="execution providers, in priority order"
    )
    inter_op_threads: int | None = Field(None, ge=1, le=4096, description="inter-op threads (parallel mode)")
    graph_optimization: Literal["disable", "basic", "extended", "all"] = Field(
        "all", description="graph optimization level"
    )
    execution_mode: Literal["sequential", "parallel"] = Field("sequential", description="operator scheduling")
    cpu_mem_arena: bool = Field(True, description="CPU memory arena (pre-allocates: inflates RSS)")
    session_config: dict[str, str] = Field(
        default_factory=dict, description="SessionOptions.add_session_config_entry pairs (JSON object)"
    )


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
    def __init__(self, session: ort.InferenceSession, model_path: Path) -> None:
        self._session = session
        self._output_names = [o.name for o in session.get_outputs()]
        self.providers: list[str] = list(session.get_providers())
        self._unranked = _unranked_inputs(model_path, [i.name for i in session.get_inputs() if not i.shape])

    def inputs(self) -> Sequence[IOSpec]:
        specs = [_io_spec(i) for i in self._session.get_inputs()]
        return [IOSpec(s.name, s.dtype, None) if s.name in self._unranked else s for s in specs]

    def outputs(self) -> Sequence[IOSpec]:
        return [_io_spec(o) for o in self._session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray]) -> Sequence[Any]:
        try:
            result: Sequence[Any] = self._session.run(self._output_names, feeds)
        except Exception as exc:  # ORT raises its own Fail/InvalidArgument types
            raise BackendError(f"onnxruntime failed to run the model: {_first_line(exc)}") from exc
        return result

    def effective(self) -> dict[str, Any]:
        opts = self._session.get_session_options()
        provider_options = self._session.get_provider_options()
        return {
            "providers": list(self.providers),
            "provider_options": {p: dict(o) for p, o in provider_options.items()},
            "intra_op_threads": opts.intra_op_num_threads,
            "inter_op_threads": opts.inter_op_num_threads,
            "graph_optimization": str(opts.graph_optimization_level).rsplit(".", 1)[-1],
            "execution_mode": str(opts.execution_mode).rsplit(".", 1)[-1],
            "cpu_mem_arena": bool(opts.enable_cpu_mem_arena),
            "precision": "as in the model (ONNX Runtime does not change tensor types on CPU)",
        }

    def close(self) -> None:
        del self._session


class OnnxRuntimeBackend:
    name = "onnxruntime"
    formats = ("onnx",)
    Options = OrtOptions

    def load(self, model_path: Path, spec: RunSpec, options: OrtOptions) -> OrtSession:
        ort = _import_ort()
        ort.set_default_logger_severity(_LOG_SEVERITY[spec.runtime_log_level])
        session_options = _session_options(ort, spec, options)
        providers = _providers(ort, options.providers)
        try:
            session = ort.InferenceSession(str(model_path), sess_options=session_options, providers=providers)
        except Exception as exc:
            raise _translate_load_error(exc, model_path) from exc
        return OrtSession(session, model_path)

    def versions(self) -> dict[str, str]:
        return {"onnxruntime": _import_ort().__version__}


def _import_ort() -> Any:
    return import_runtime("onnxruntime", "pip install onnxruntime")


def _session_options(ort: Any, spec: RunSpec, options: OrtOptions) -> Any:
    opts = ort.SessionOptions()
    opts.log_severity_level = _LOG_SEVERITY[spec.runtime_log_level]
    if spec.threads is not None:
        opts.intra_op_num_threads = spec.threads
    elif _workers(spec) > 1:
        # several requests in flight on this one session (LoadGen server/offline/multi-stream): split
        # the cores between them instead of letting every run() spin one thread per core
        opts.intra_op_num_threads = max(1, (os.cpu_count() or 1) // _workers(spec))
    if options.inter_op_threads is not None:
        opts.inter_op_num_threads = options.inter_op_threads
    opts.graph_optimization_level = getattr(ort.GraphOptimizationLevel, _OPT_LEVELS[options.graph_optimization])
    opts.execution_mode = getattr(ort.ExecutionMode, _EXEC_MODES[options.execution_mode])
    opts.enable_cpu_mem_arena = options.cpu_mem_arena
    for key, value in options.session_config.items():
        try:
            opts.add_session_config_entry(key, value)
        except Exception as exc:
            raise BackendError(f"onnxruntime refused session config {key}={value!r}: {_first_line(exc)}") from exc
    return opts


def _workers(spec: RunSpec) -> int:
    """Inferences the scenario keeps in flight on one session (its ``workers`` option; 1 if it has none)."""
    value = spec.scenario_options.get("workers", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _providers(ort: Any, requested: Sequence[str]) -> list[str]:
    wanted = list(requested)
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


def _unranked_inputs(model_path: Path, candidates: list[str]) -> frozenset[str]:
    """ORT reports both a scalar and an input of unknown rank as shape []; the ONNX file tells them apart."""
    if not candidates:
        return frozenset()
    import onnx

    graph = onnx.load(str(model_path), load_external_data=False).graph
    return frozenset(
        v.name
        for v in graph.input
        if v.name in candidates and v.type.HasField("tensor_type") and not v.type.tensor_type.HasField("shape")
    )


def _io_spec(node: Any) -> IOSpec:
    shape = node.shape
    if shape is None and not str(node.type).startswith("tensor("):
        # sequence/map/optional inputs: there is no tensor shape to generate data for
        return IOSpec(node.name, str(node.type), ())
    dims = tuple(d if isinstance(d, int | str) or d is None else None for d in (shape or []))
    return IOSpec(node.name, _ORT_TYPES.get(node.type, node.type), dims)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
