"""OpenVINO backend: ONNX files and OpenVINO IR (``.xml`` + ``.bin``). openvino is imported only in ``load``.

Options: :class:`OpenVinoOptions` (``--backend-option KEY=VALUE``). What benchmark_app users set with
flags maps to fields: ``-d`` → ``device``, ``-hint`` → ``performance_hint``, ``-nstreams`` →
``num_streams``, ``-nthreads`` → ``--threads``, ``-infer_precision`` → ``--precision``, ``-api`` →
``api``, ``-cdir`` → ``cache_dir``, ``-pin`` → ``pinning``, ``-load_config`` → ``properties``.

Precision is always set explicitly: on CPUs with AVX-512 BF16 or AMX the CPU plugin's default
INFERENCE_PRECISION_HINT is bf16, so an unset hint silently measures a different (faster, less
accurate) computation than the fp32 the user believes is running. The compiled model's properties
are read back after compilation and stored as ``record.effective`` (:meth:`OpenVinoSession.effective`);
a requested precision the device replaces with another (CPU without f16 arithmetic runs bf16 for
an f16 hint) is refused rather than recorded under the wrong name.

Unlike benchmark_app, which refuses ``-nstreams``/``-nthreads`` unless ``-hint none`` (its own UI rule,
as its message says), the OpenVINO API accepts explicit streams and threads with any hint: explicit
values override what the hint would choose, and ``effective()`` shows the outcome.

Shapes: a model with dynamic dimensions is reshaped to the concrete shapes the engine will feed
(``--shape`` / ``--batch``, resolved by the engine's own rules) and compiled in ``load``, as
benchmark_app compiles for static shapes; if ``prepare`` receives other shapes (an inputs file) the
model is recompiled there, outside the timed region.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from edgebench.backends import import_runtime
from edgebench.errors import BackendError, BackendUnavailable, EdgebenchError, ModelError, UsageError
from edgebench.options import strict_config
from edgebench.protocols import Dim, IOSpec

if TYPE_CHECKING:
    import numpy as np

    from edgebench.records import JSONValue, RunSpec

# RunSpec.runtime_log_level → OpenVINO's LOG_LEVEL (it has no "fatal": LOG_NONE is the closest)
_LOG_LEVELS = {
    "verbose": "LOG_TRACE",
    "info": "LOG_INFO",
    "warning": "LOG_WARNING",
    "error": "LOG_ERROR",
    "fatal": "LOG_NONE",
}
# --precision → INFERENCE_PRECISION_HINT value
_PRECISION_HINTS = {"fp32": "f32", "fp16": "f16", "bf16": "bf16"}
_PERFORMANCE_HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT"}
# Compiled-model properties read back into effective(): what actually runs.
_READBACK = (
    "INFERENCE_PRECISION_HINT",
    "PERFORMANCE_HINT",
    "NUM_STREAMS",
    "INFERENCE_NUM_THREADS",
    "EXECUTION_DEVICES",
    "OPTIMAL_NUMBER_OF_INFER_REQUESTS",
    "ENABLE_CPU_PINNING",
    "LOG_LEVEL",
)
# Properties that have their own field or flag: giving them in `properties` too would be ambiguous.
_DEDICATED = {
    "INFERENCE_PRECISION_HINT": "--precision",
    "PERFORMANCE_HINT": "performance_hint",
    "NUM_STREAMS": "num_streams",
    "INFERENCE_NUM_THREADS": "--threads",
    "LOG_LEVEL": "--runtime-log-level",
    "CACHE_DIR": "cache_dir",
    "ENABLE_CPU_PINNING": "pinning",
}
# Devices that dispatch to others; their names list the physical devices after ':'.
_VIRTUAL_DEVICES = frozenset({"AUTO", "HETERO", "MULTI", "BATCH"})
# OpenVINO element type name → numpy dtype name, where Type.to_dtype() is wrong or missing.
_TYPE_OVERRIDES = {"bf16": "bfloat16", "string": "str"}


class OpenVinoOptions(BaseModel):
    """OpenVINO compile options (validated in the parent before any process starts)."""

    model_config = strict_config()

    device: str = Field("CPU", min_length=1, description="OpenVINO device: CPU, GPU, GPU.1, NPU, AUTO:GPU,CPU …")
    performance_hint: Literal["latency", "throughput", "none"] = Field(
        "latency", description="PERFORMANCE_HINT ('none': not set, the device's own default applies)"
    )
    num_streams: int | None = Field(None, ge=1, le=4096, description="NUM_STREAMS (overrides the hint's choice)")
    api: Literal["sync", "async"] = Field(
        "sync", description="sync: infer(); async: start_async()+wait() on one request (still one inference per call)"
    )
    cache_dir: str | None = Field(None, min_length=1, description="CACHE_DIR: compiled-blob cache (faster load)")
    pinning: bool | None = Field(None, description="ENABLE_CPU_PINNING (benchmark_app -pin); None: device default")
    properties: dict[str, str] = Field(
        default_factory=dict, description="further compile_model properties, as benchmark_app -load_config (JSON)"
    )

    @field_validator("properties")
    @classmethod
    def _no_dedicated_keys(cls, value: dict[str, str]) -> dict[str, str]:
        clash = sorted(k for k in value if k.upper() in _DEDICATED)
        if clash:
            where = ", ".join(f"{k} → {_DEDICATED[k.upper()]}" for k in clash)
            raise ValueError(f"set these with their own option, not in properties: {where}")
        return value


class OpenVinoSession:
    """One compiled model and one InferRequest; ``run`` only infers and copies the outputs out."""

    def __init__(self, core: Any, model: Any, device: str, config: dict[str, Any], spec: RunSpec, api: str) -> None:
        self._core = core
        self._model = model
        self._device = device
        self._config = config
        self._precision = spec.precision
        self._api = api
        self._compiled: Any = None
        self._compiled_shapes: dict[str, tuple[int, ...]] = {}
        self._request: Any = None
        self._names = [_port_name(p) for p in model.inputs]

    def inputs(self) -> Sequence[IOSpec]:
        # The model's declared shapes (dynamic dims as None): the engine resolves them as for any backend.
        return [_io_spec(p) for p in self._model.inputs]

    def outputs(self) -> Sequence[IOSpec]:
        ports = self._compiled.outputs if self._compiled is not None else self._model.outputs
        return [_io_spec(p) for p in ports]

    def compile(self, shapes: Mapping[str, tuple[int, ...]]) -> None:
        """Reshape a dynamic model to ``shapes`` (static ones are compiled as they are) and compile."""
        model = self._model
        if any(p.get_partial_shape().is_dynamic for p in model.inputs):
            model = model.clone()
            try:
                model.reshape({port: list(shapes[name]) for port, name in zip(model.inputs, self._names, strict=True)})
            except Exception as exc:
                raise BackendError(
                    f"OpenVINO could not reshape the model to {dict(shapes)}: {_last_line(exc)}"
                ) from exc
        self._request = None
        try:
            self._compiled = self._core.compile_model(model, self._device, self._config)
        except Exception as exc:
            raise _translate_compile_error(exc, self._device) from exc
        self._compiled_shapes = dict(shapes)
        _check_precision(self._precision, self._read_back().get("INFERENCE_PRECISION_HINT"), self._device)

    def prepare(self, feeds: Mapping[str, np.ndarray]) -> Any:
        """Create the InferRequest and copy the inputs into its tensors once, outside the timed region.

        This is what benchmark_app measures for static models (inputs filled once, then only infer()).
        A dynamic model fed other shapes than it was compiled for is recompiled here.
        """
        import openvino

        shapes = {name: tuple(int(d) for d in feeds[name].shape) for name in self._names}
        if self._compiled is None or (shapes != self._compiled_shapes and self._is_dynamic()):
            self.compile(shapes)
        try:
            request = self._compiled.create_infer_request()
            for index, name in enumerate(self._names):
                # shared_memory=False copies: the request owns its input data for the whole run
                request.set_input_tensor(index, openvino.Tensor(feeds[name], shared_memory=False))
        except Exception as exc:
            raise BackendError(f"OpenVINO refused the inputs: {_last_line(exc)}") from exc
        self._request = request
        return request

    def run(self, feeds: Any) -> Sequence[Any]:
        request = feeds if feeds is self._request and feeds is not None else self.prepare(feeds)
        try:
            if self._api == "async":
                request.start_async()
                request.wait()
            else:
                request.infer()
            # .data is a view into the request's output tensor, overwritten by the next call: copy it
            return [request.get_output_tensor(i).data.copy() for i in range(len(self._compiled.outputs))]
        except Exception as exc:
            raise BackendError(f"OpenVINO failed to run the model: {_last_line(exc)}") from exc

    def effective(self) -> dict[str, JSONValue]:
        props = self._read_back()
        devices = props.get("EXECUTION_DEVICES")
        return {
            "precision": props.get("INFERENCE_PRECISION_HINT", "unknown (not reported by the device)"),
            "precision_requested": _PRECISION_HINTS[self._precision],
            "providers": devices if isinstance(devices, list) else [self._device],
            "device": self._device,
            "api": self._api,
            "compiled_shapes": {k: list(v) for k, v in self._compiled_shapes.items()},
            "properties": props,
        }

    def in_flight(self, feeds: Any, workers: int) -> AsyncInFlight:
        """protocols.Concurrent: ``workers`` infer requests of an AsyncInferQueue share the prepared inputs."""
        request = feeds if feeds is self._request and feeds is not None else self.prepare(feeds)
        inputs = [request.get_input_tensor(i) for i in range(len(self._names))]
        streams = self._read_back().get("NUM_STREAMS")
        return AsyncInFlight(self._compiled, inputs, workers, streams)

    def close(self) -> None:
        self._request = None
        self._compiled = None
        self._model = None

    def _is_dynamic(self) -> bool:
        return any(p.get_partial_shape().is_dynamic for p in self._model.inputs)

    def _read_back(self) -> dict[str, JSONValue]:
        if self._compiled is None:
            return {}
        props: dict[str, JSONValue] = {}
        for key in _READBACK:
            try:
                props[key] = _plain(self._compiled.get_property(key))
            except Exception:  # a device that does not report a property simply lacks it
                continue
        return props


class AsyncInFlight:
    """Requests in flight on an AsyncInferQueue. ``submit`` only enqueues: a dispatcher thread feeds the
    queue (``start_async`` blocks while every request is busy, which must not stall LoadGen's issuer)."""

    def __init__(self, compiled: Any, inputs: list[Any], workers: int, streams: JSONValue) -> None:
        import queue
        import threading

        import openvino

        self._queue = openvino.AsyncInferQueue(compiled, workers)
        self._queue.set_callback(self._finished)
        self._inputs, self._workers, self._streams = inputs, workers, streams
        self._outputs = len(compiled.outputs)
        self._pending: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._dispatch, name="edgebench-ov-dispatch", daemon=True)
        self._thread.start()

    def submit(self, tag: int, done: Any) -> None:
        self._pending.put((tag, done))

    def _dispatch(self) -> None:
        while (item := self._pending.get()) is not None:
            try:
                self._queue.start_async(self._inputs, item)
            except Exception as exc:
                item[1](item[0], BackendError(f"OpenVINO failed to start a request: {_last_line(exc)}"), 0)

    def _finished(self, request: Any, item: Any) -> None:
        tag, done = item
        try:
            outputs: Any = [request.get_output_tensor(i).data.copy() for i in range(self._outputs)]
        except Exception as exc:
            outputs = BackendError(f"OpenVINO failed to run the model: {_last_line(exc)}")
        done(tag, outputs, int(request.latency * 1e6))  # InferRequest.latency is in milliseconds

    def arrangement(self) -> dict[str, JSONValue]:
        return {"kind": "openvino_async_infer_queue", "infer_requests": self._workers, "streams": self._streams}

    def close(self) -> None:
        self._pending.put(None)
        self._thread.join()
        self._queue.wait_all()


class OpenVinoBackend:
    name = "openvino"
    formats = ("onnx", "openvino")
    Options = OpenVinoOptions
    precisions = ("fp32", "fp16", "bf16")

    def load(self, model_path: Path, spec: RunSpec, options: OpenVinoOptions) -> OpenVinoSession:
        openvino = _import_openvino()
        core = openvino.Core()
        _check_device(core, options.device)
        if options.cache_dir is not None:
            core.set_property({"CACHE_DIR": options.cache_dir})
        try:
            model = core.read_model(str(model_path))
        except Exception as exc:  # read_model raises RuntimeError for every unreadable file
            raise ModelError(
                f"OpenVINO cannot read {model_path.name}: {_last_line(exc)}",
                hint="check the file is a complete .onnx, or an .xml with its .bin beside it",
            ) from exc
        config = _supported(core, options.device, _compile_config(spec, options))
        session = OpenVinoSession(core, model, options.device, config, spec, options.api)
        session.compile(_load_shapes(session, spec))
        return session

    def versions(self) -> dict[str, str]:
        return {"openvino": str(_import_openvino().__version__)}


def _workers(spec: RunSpec) -> int:
    """Requests a LoadGen scenario keeps in flight (its ``workers`` option; 1 if it has none)."""
    value = spec.scenario_options.get("workers", 1)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 1


def _import_openvino() -> Any:
    return import_runtime("openvino", "pip install 'edgebench[openvino]'")


def _compile_config(spec: RunSpec, options: OpenVinoOptions) -> dict[str, Any]:
    config: dict[str, Any] = dict(options.properties)
    config["INFERENCE_PRECISION_HINT"] = _PRECISION_HINTS[spec.precision]  # never the device default
    if options.performance_hint != "none":
        config["PERFORMANCE_HINT"] = _PERFORMANCE_HINTS[options.performance_hint]
    if options.num_streams is not None:
        config["NUM_STREAMS"] = options.num_streams
    elif _workers(spec) > 1:  # a LoadGen scenario keeps several requests in flight: one stream each
        config["NUM_STREAMS"] = _workers(spec)
    if spec.threads is not None:
        config["INFERENCE_NUM_THREADS"] = spec.threads
    if options.pinning is not None:
        config["ENABLE_CPU_PINNING"] = options.pinning
    config["LOG_LEVEL"] = _LOG_LEVELS[spec.runtime_log_level]  # --runtime-log-level, as for ONNX Runtime
    return config


def _supported(core: Any, device: str, config: dict[str, Any]) -> dict[str, Any]:
    """Drop LOG_LEVEL where a device does not take it (a GPU/NPU plugin may not): logs are not worth a failure."""
    try:
        supported = core.get_property(device, "SUPPORTED_PROPERTIES")
    except Exception:  # virtual devices (AUTO, HETERO:…) answer per target; keep the config as asked
        return config
    return config if "LOG_LEVEL" in supported else {k: v for k, v in config.items() if k != "LOG_LEVEL"}


def _load_shapes(session: OpenVinoSession, spec: RunSpec) -> dict[str, tuple[int, ...]]:
    # The engine's own rules (--shape wins, --batch fills a free leading dim, else 1), so the model is
    # compiled for exactly the shapes prepare() will receive.
    from edgebench.engine.inputs import resolve_shapes

    return resolve_shapes(list(session.inputs()), spec.shapes, spec.batch)


def _check_device(core: Any, device: str) -> None:
    available = [str(d) for d in core.available_devices]
    bases = {d.split(".")[0] for d in available}
    missing = [d for d in _physical_devices(device) if d not in available and d.split(".")[0] not in bases]
    if missing:
        raise BackendUnavailable(
            f"OpenVINO device {', '.join(missing)} is not available (available: {', '.join(available) or 'none'})",
            hint=f"pass --backend-option device={available[0] if available else 'CPU'}; "
            "a GPU/NPU needs its driver (OpenCL / Level Zero) installed",
        )


def _physical_devices(device: str) -> list[str]:
    kind, _, rest = device.partition(":")
    if kind.upper() in _VIRTUAL_DEVICES:
        return [d.strip() for d in rest.split(",") if d.strip()]
    return [device]


def _check_precision(requested: str, actual: JSONValue, device: str) -> None:
    wanted = _PRECISION_HINTS[requested]
    if actual is not None and actual != wanted:
        raise UsageError(
            f"--precision {requested}: OpenVINO {device} runs {actual} instead of {wanted}",
            hint=f"this device has no {wanted} execution; ask for --precision "
            + ("bf16" if actual == "bf16" else "fp32")
            + " to measure what it really runs",
        )


def _translate_compile_error(exc: Exception, device: str) -> EdgebenchError:
    text = _last_line(exc)
    if "property" in text.lower():  # a key or value from the options / properties that the device refuses
        return UsageError(f"OpenVINO {device} refused the configuration: {text}", hint="see `edgebench backends`")
    return BackendError(f"OpenVINO could not compile the model for {device}: {text}")


def _io_spec(port: Any) -> IOSpec:
    partial = port.get_partial_shape()
    shape: tuple[Dim, ...] | None = None
    if not partial.rank.is_dynamic:
        shape = tuple(d.get_length() if d.is_static else None for d in partial)
    return IOSpec(_port_name(port), _dtype_name(port.get_element_type()), shape)


def _dtype_name(element_type: Any) -> str:
    name = str(element_type.get_type_name())
    if name in _TYPE_OVERRIDES:
        return _TYPE_OVERRIDES[name]
    try:
        return str(element_type.to_dtype().name)
    except Exception:  # dynamic / exotic types (u4, nf4…) have no numpy dtype
        return name


def _port_name(port: Any) -> str:
    # Inputs and outputs usually carry tensor names; an unnamed one is known by its node.
    return str(port.get_any_name()) if port.get_names() else str(port.get_node().get_friendly_name())


def _plain(value: Any) -> JSONValue:
    """Property values as JSON data: element types by their short name (f32, bf16), lists as lists."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "get_type_name"):
        return str(value.get_type_name())
    return str(value)


def _last_line(exc: BaseException) -> str:
    # OpenVINO prefixes the real message with "Exception from src/…cpp:N:" lines; the cause is last.
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip() and not ln.startswith("Exception from ")]
    return (lines[-1] if lines else type(exc).__name__)[:300]
