"""PyTorch backend: TorchScript (.pt/.pth), ExportedProgram (.pt2) and ``module.path:factory`` references
(an eager ``nn.Module``, format ``pyfactory``), eager or torch.compile, CPU or CUDA.

torch is imported only inside ``load`` (rule 5). Options: :class:`TorchOptions`
(``--backend-option KEY=VALUE``). ``--threads`` → ``torch.set_num_threads``; ``--precision fp16|bf16``
casts the module's floating parameters/buffers and the floating inputs to that dtype. The *effective
precision* recorded in ``record.effective["precision"]`` is the dtype of the module's floating
parameters after that cast (a model without floating parameters reports its input dtype).

Timing contract: :meth:`TorchSession.prepare` turns the numpy feeds into tensors on the device once,
outside the timed region (host→device copies are not timed). :meth:`TorchSession.run` calls the module
under ``torch.inference_mode`` (or ``no_grad``) and, on CUDA, synchronises before returning, so host
latency is end to end. With ``copy_outputs=True`` (default) the outputs are copied to host numpy arrays
inside the timed call — what an application that reads its results pays; ``copy_outputs=False``
returns device tensors and times the computation alone. On CUDA, :class:`CudaEventTimer` adds
device-side latencies (CUDA event pairs around each call, collected after the window).

Deserialization: ``torch.jit.load`` reads TorchScript's own archive, whose unpickler rebuilds only
TorchScript types (no arbitrary Python globals) and has no ``weights_only`` flag. ``torch.export.load``
unpickles some payloads with ``torch.load(weights_only=False)`` and opaque constants with
``pickle.loads``; :func:`_load_exported` forces ``weights_only=True`` on every ``torch.load`` it makes
and refuses archives holding opaque pickled objects, so loading a model never executes its code.
A factory reference is different by design: the user names Python code, and loading it imports that
module and calls the factory (:func:`edgebench.zoo.resolve.load_ref_module`, which also checks the
state_dict still hashes to the identity recorded when the reference was resolved).
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, model_validator

from edgebench.backends import import_runtime
from edgebench.errors import BackendError, BackendUnavailable, ModelError, UsageError
from edgebench.options import strict_config
from edgebench.protocols import Dim, IOSpec

if TYPE_CHECKING:
    import numpy as np
    import torch

    from edgebench.records import JSONValue, RunSpec

_PRECISION_DTYPES = {"fp32": "float32", "fp16": "float16", "bf16": "bfloat16"}
# CUDA events are created in blocks so that the timed call rarely pays for cudaEventCreate.
_EVENT_BLOCK = 256
_NS_PER_MS = 1_000_000


class TorchOptions(BaseModel):
    """PyTorch execution settings (validated in the parent before any process starts)."""

    model_config = strict_config()

    device: str = Field("cpu", pattern=r"^(cpu|cuda(:\d+)?)$", description="cpu, cuda or cuda:N")
    compile: bool = Field(
        False, description="torch.compile the module (ExportedProgram or factory, not TorchScript; first call compiles)"
    )
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = Field(
        "default", description="torch.compile mode"
    )
    inference_mode: bool = Field(True, description="torch.inference_mode around each call (False: no_grad)")
    cuda_graphs: bool = Field(False, description="capture the call once as a CUDA graph and replay it (CUDA only)")
    channels_last: bool = Field(False, description="channels_last memory format for the module and 4-D inputs")
    interop_threads: int | None = Field(None, ge=1, le=4096, description="torch.set_interop_threads")
    copy_outputs: bool = Field(True, description="copy outputs to host numpy inside the timed call")
    cudnn_benchmark: bool = Field(False, description="torch.backends.cudnn.benchmark (autotune conv kernels)")

    @model_validator(mode="after")
    def _cuda_only(self) -> TorchOptions:
        if self.cuda_graphs and self.device == "cpu":
            raise ValueError("cuda_graphs needs device=cuda (CUDA graphs do not exist on CPU)")
        if self.cuda_graphs and self.compile:
            raise ValueError("cuda_graphs and compile together: use compile_mode=reduce-overhead instead")
        return self


class CudaEventTimer:
    """CUDA event pairs recorded on the current stream around each call; elapsed times read after the window."""

    def __init__(self, torch_mod: Any, device: Any) -> None:
        self._torch = torch_mod
        self._device = device
        self._free: list[Any] = []
        self._pairs: list[tuple[Any, Any]] = []
        self._start: Any = None

    def _event(self) -> Any:
        if not self._free:
            with self._torch.cuda.device(self._device):
                self._free = [self._torch.cuda.Event(enable_timing=True) for _ in range(_EVENT_BLOCK)]
        return self._free.pop()

    def mark_start(self) -> None:
        self._start = self._event()
        self._start.record()

    def mark_end(self) -> None:
        end = self._event()
        end.record()
        self._pairs.append((self._start, end))

    def collect(self) -> list[int]:
        """Synchronises (elapsed_time needs both events complete) and returns ns per call."""
        if not self._pairs:
            return []
        self._pairs[-1][1].synchronize()
        out = [max(1, round(start.elapsed_time(end) * _NS_PER_MS)) for start, end in self._pairs]
        self._pairs = []
        return out


class TorchSession:
    def __init__(self, module: Any, io: tuple[list[IOSpec], list[IOSpec]], ctx: _LoadContext) -> None:
        self._module = module
        self._inputs, self._outputs = io
        self._c = ctx
        self._graph: Any = None  # torch.cuda.CUDAGraph once captured
        self._static_out: Any = None

    def inputs(self) -> Sequence[IOSpec]:
        return self._inputs

    def outputs(self) -> Sequence[IOSpec]:
        return self._outputs

    def prepare(self, feeds: Mapping[str, np.ndarray]) -> tuple[Any, ...]:
        """numpy → tensors on the device, in forward order, cast and laid out as configured (untimed)."""
        torch = self._c.torch
        tensors = tuple(self._to_device(torch.from_numpy(feeds[spec.name])) for spec in self._inputs)
        if self._c.is_cuda:
            torch.cuda.synchronize(self._c.device)
        if self._c.options.cuda_graphs:
            self._capture(tensors)
        return tensors

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        torch = self._c.torch
        dtype = self._c.compute_dtype if tensor.is_floating_point() else tensor.dtype
        out = tensor.to(device=self._c.device, dtype=dtype)
        if self._c.options.channels_last and out.dim() == 4:
            out = out.contiguous(memory_format=torch.channels_last)
        return out

    def _capture(self, static_inputs: tuple[Any, ...]) -> None:
        """Capture one call as a CUDA graph; replays read the same input tensors (prepare's)."""
        torch = self._c.torch
        try:
            side = torch.cuda.Stream(self._c.device)
            side.wait_stream(torch.cuda.current_stream(self._c.device))
            with torch.cuda.stream(side), self._grad_mode():
                for _ in range(3):  # warm-up on a side stream, as torch.cuda.graphs requires
                    self._module(*static_inputs)
            torch.cuda.current_stream(self._c.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph), self._grad_mode():
                self._static_out = self._module(*static_inputs)
        except Exception as exc:
            raise BackendError(f"capturing a CUDA graph failed: {_first_line(exc)}") from exc
        self._graph = graph

    def _grad_mode(self) -> contextlib.AbstractContextManager[Any]:
        torch = self._c.torch
        mode: contextlib.AbstractContextManager[Any] = (
            torch.inference_mode() if self._c.options.inference_mode else torch.no_grad()
        )
        return mode

    def run(self, feeds: Any) -> Sequence[Any]:
        # The engine passes prepare()'s tuple; numpy feeds (direct API use) are converted here, inside the call.
        args = self.prepare(feeds) if isinstance(feeds, Mapping) else feeds
        try:
            if self._graph is not None:
                self._graph.replay()
                result = self._static_out
            else:
                with self._grad_mode():
                    result = self._module(*args)
            tensors = _flatten(result)
            if self._c.is_cuda:
                self._c.torch.cuda.synchronize(self._c.device)  # host latency = end of the device work
        except Exception as exc:  # torch raises RuntimeError, TypeError, dynamo/inductor errors…
            raise BackendError(f"torch failed to run the model: {_first_line(exc)}") from exc
        return [_to_host(t, self._c.torch) for t in tensors] if self._c.options.copy_outputs else tensors

    def device_timer(self) -> CudaEventTimer | None:
        return CudaEventTimer(self._c.torch, self._c.device) if self._c.is_cuda else None

    def effective(self) -> dict[str, JSONValue]:
        torch, o = self._c.torch, self._c.options
        out: dict[str, JSONValue] = {
            "device": str(self._c.device),
            "format": self._c.format,
            "precision": self._c.precision,
            "parameter_dtype": self._c.param_dtype,
            "intra_op_threads": torch.get_num_threads(),
            "inter_op_threads": torch.get_num_interop_threads(),
            "compile": o.compile,
            "compile_mode": o.compile_mode if o.compile else None,
            "inference_mode": o.inference_mode,
            "cuda_graphs": self._graph is not None,
            "channels_last": o.channels_last,
            "copy_outputs": o.copy_outputs,
            "cudnn_benchmark": bool(torch.backends.cudnn.benchmark),
            "torch": str(torch.__version__),
        }
        if self._c.is_cuda:
            out["device_name"] = torch.cuda.get_device_name(self._c.device)
            out["cuda_max_memory_allocated_bytes"] = int(torch.cuda.max_memory_allocated(self._c.device))
        return out

    def close(self) -> None:
        self._graph = self._static_out = None
        del self._module
        if self._c.is_cuda:
            self._c.torch.cuda.empty_cache()


class _LoadContext:
    """What load decided, shared by the session: torch itself, the device and the dtypes."""

    def __init__(self, torch_mod: Any, options: TorchOptions, device: Any, precision: str, fmt: str) -> None:
        self.torch = torch_mod
        self.options = options
        self.device = device
        self.is_cuda: bool = device.type == "cuda"
        self.precision = precision
        self.compute_dtype = getattr(torch_mod, _PRECISION_DTYPES[precision])
        self.format = fmt
        self.param_dtype = "none"


class TorchBackend:
    name = "torch"
    formats = ("torchscript", "exported_program", "pyfactory")
    precisions = ("fp32", "fp16", "bf16")
    Options = TorchOptions

    def load(self, model_path: Path, spec: RunSpec, options: TorchOptions) -> TorchSession:
        torch = _import_torch()
        device = _device(torch, options.device)
        _set_threads(torch, spec.threads, options.interop_threads)
        torch.backends.cudnn.benchmark = options.cudnn_benchmark
        fmt = _SUFFIX_FORMATS.get(model_path.suffix.lower(), "torchscript")
        if options.compile and fmt == "torchscript":
            raise UsageError(
                "compile=true needs an ExportedProgram or a module:factory: torch.compile cannot compile TorchScript",
                hint="save the model with torch.export.save(...) as .pt2, or drop compile",
            )
        ctx = _LoadContext(torch, options, device, spec.precision, fmt)
        if fmt == "exported_program":
            module, io = _load_exported(torch, model_path, device)
        elif fmt == "pyfactory":
            module, io = _load_factory(model_path, device)
        else:
            module, io = _load_torchscript(torch, model_path, device)
        module = _configure(module, ctx)
        ctx.param_dtype = _param_dtype(module, io[0], ctx)
        return TorchSession(module, io, ctx)

    def versions(self) -> dict[str, str]:
        torch = _import_torch()
        out = {"torch": str(torch.__version__)}
        if torch.version.cuda:
            out["cuda"] = str(torch.version.cuda)
        return out


_SUFFIX_FORMATS = {".pt2": "exported_program", ".pyref": "pyfactory"}


def load_module(model_path: Path, device: str = "cpu") -> tuple[Any, list[IOSpec], str]:
    """The eager-callable module of a torch model file, its inputs and its format (for the converters).

    Same loaders, same safety rules as :meth:`TorchBackend.load`; no options, threads or precision.
    """
    torch = _import_torch()
    fmt = _SUFFIX_FORMATS.get(model_path.suffix.lower(), "torchscript")
    dev = torch.device(device)
    if fmt == "exported_program":
        module, io = _load_exported(torch, model_path, dev)
    elif fmt == "pyfactory":
        module, io = _load_factory(model_path, dev)
    else:
        module, io = _load_torchscript(torch, model_path, dev)
    return module, io[0], fmt


def _import_torch() -> Any:
    return import_runtime("torch", "pip install torch")


def _device(torch: Any, name: str) -> Any:
    device = torch.device(name)
    if device.type != "cuda":
        return device
    if not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise BackendUnavailable(
            f"device {name} requested but CUDA is not available (torch {torch.__version__}, {build})",
            hint="install a CUDA build of torch on a machine with an NVIDIA GPU, or use device=cpu",
        )
    index = device.index or 0
    if index >= torch.cuda.device_count():
        raise BackendUnavailable(
            f"device {name} requested but only {torch.cuda.device_count()} CUDA device(s) exist",
            hint="use cuda:0 … cuda:N-1",
        )
    return torch.device("cuda", index)


def _set_threads(torch: Any, threads: int | None, interop: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)
    if interop is None or torch.get_num_interop_threads() == interop:
        return
    try:
        torch.set_interop_threads(interop)
    except RuntimeError as exc:  # only allowed once, before any inter-op parallel work in the process
        raise BackendError(
            f"torch refused interop_threads={interop}: {_first_line(exc)}",
            hint="run in a fresh process (the default local executor)",
        ) from exc


def _load_torchscript(torch: Any, path: Path, device: Any) -> tuple[Any, tuple[list[IOSpec], list[IOSpec]]]:
    try:
        module = torch.jit.load(str(path), map_location=device)
    except Exception as exc:  # RuntimeError for a damaged zip, a plain torch.save file, a missing constants.pkl
        raise ModelError(
            f"{path} is not a readable TorchScript model: {_first_line(exc)}",
            hint="save it with torch.jit.script(model).save(path) or torch.jit.trace(...).save(path)",
        ) from exc
    module.eval()
    return module, (_script_inputs(module), _script_outputs(module))


def _script_inputs(module: Any) -> list[IOSpec]:
    """Forward's required arguments, in order; TorchScript records no shapes, so the engine asks for --shape."""
    specs = []
    for arg in module.forward.schema.arguments[1:]:  # [0] is self
        if arg.has_default_value():
            continue  # run passes positional inputs only; defaults keep their value
        kind = str(arg.type)
        specs.append(IOSpec(arg.name, "float32" if kind == "Tensor" else kind, None))
    return specs


def _script_outputs(module: Any) -> list[IOSpec]:
    (ret,) = module.forward.schema.returns
    elements = getattr(ret.type, "elements", None)
    count = len(elements()) if callable(elements) else 1
    names = ["output"] if count == 1 else [f"output{i}" for i in range(count)]
    return [IOSpec(name, "float32", None) for name in names]


@contextlib.contextmanager
def _weights_only(torch: Any) -> Iterator[None]:
    """torch.export.load calls torch.load(weights_only=False) for pickled payloads: force True meanwhile."""
    original: Callable[..., Any] = torch.load

    def safe_load(*args: Any, **kwargs: Any) -> Any:
        kwargs["weights_only"] = True
        return original(*args, **kwargs)

    torch.load = safe_load
    try:
        yield
    finally:
        torch.load = original


def _load_exported(torch: Any, path: Path, device: Any) -> tuple[Any, tuple[list[IOSpec], list[IOSpec]]]:
    _refuse_opaque_pickles(path)
    try:
        with _weights_only(torch):
            program = torch.export.load(str(path))
        module = program.module()
        module = module.to(device)
    except Exception as exc:  # zipfile, serde and unpickling errors of many types
        raise ModelError(
            f"{path} is not a readable ExportedProgram: {_first_line(exc)}",
            hint="save it with torch.export.save(torch.export.export(model, args), path) with this torch version",
        ) from exc
    return module, _exported_io(program)


def _load_factory(path: Path, device: Any) -> tuple[Any, tuple[list[IOSpec], list[IOSpec]]]:
    """Import and call the factory a ``.pyref`` names; inputs from the reference, else forward's signature."""
    import inspect

    from edgebench.zoo.resolve import load_ref_module

    module, ref = load_ref_module(path)
    try:
        module = module.to(device)
    except Exception as exc:
        raise BackendError(f"moving {ref.reference} to {device} failed: {_first_line(exc)}") from exc
    if ref.inputs:
        inputs = [IOSpec(name, dtype, tuple(shape)) for name, dtype, shape in ref.inputs]
    else:  # no recorded shapes: the engine asks for --shape, as for TorchScript
        params = inspect.signature(module.forward).parameters.values()
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        required = [p for p in params if p.default is p.empty and p.kind in positional]
        inputs = [IOSpec(p.name, "float32", None) for p in required]
    return module, (inputs, [IOSpec("output", "float32", None)])


def _refuse_opaque_pickles(path: Path) -> None:
    """Opaque constants are read with pickle.loads, which no flag restricts: refuse the file instead."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        raise ModelError(f"{path} is not a readable ExportedProgram: {exc}", hint="check the file is complete") from exc
    opaque = [n for n in names if "/data/constants/opaque_obj_" in f"/{n}"]
    if opaque:
        raise ModelError(
            f"{path.name} holds pickled Python objects ({opaque[0]}); loading it would execute their code",
            hint="export the model without opaque (Python object) constants",
        )


def _exported_io(program: Any) -> tuple[list[IOSpec], list[IOSpec]]:
    """Placeholders of user inputs carry example values: dtype and shape, symbolic dims as their names."""
    nodes = {n.name: n for n in program.graph.nodes}
    inputs = [_meta_spec(name, nodes[name].meta.get("val")) for name in program.graph_signature.user_inputs]
    (output_node,) = [n for n in program.graph.nodes if n.op == "output"]
    values = [getattr(a, "meta", {}).get("val") for a in _flatten(output_node.args[0])]
    names = list(program.graph_signature.user_outputs)
    outputs = [_meta_spec(str(name), v) for name, v in zip(names, values, strict=False)]
    return inputs, outputs


def _meta_spec(name: str, value: Any) -> IOSpec:
    if value is None or not hasattr(value, "shape"):
        return IOSpec(name, type(value).__name__, ())  # a non-tensor input: the engine refuses it by dtype
    dims: tuple[Dim, ...] = tuple(d if isinstance(d, int) else str(d) for d in value.shape)
    return IOSpec(name, _host_dtype(str(value.dtype).removeprefix("torch.")), dims)


def _host_dtype(torch_dtype: str) -> str:
    # numpy has no bfloat16: such inputs are generated as float32 and cast on the device by prepare()
    return "float32" if torch_dtype == "bfloat16" else torch_dtype


def _configure(module: Any, ctx: _LoadContext) -> Any:
    torch = ctx.torch
    try:
        if ctx.precision != "fp32":
            module = module.to(dtype=ctx.compute_dtype)
        if ctx.options.channels_last:
            module = module.to(memory_format=torch.channels_last)
        if ctx.options.compile:
            module = torch.compile(module, mode=ctx.options.compile_mode)
    except Exception as exc:
        raise BackendError(f"torch could not prepare the module: {_first_line(exc)}") from exc
    return module


def _param_dtype(module: Any, inputs: list[IOSpec], ctx: _LoadContext) -> str:
    """The effective precision: the dtype of the floating parameters/buffers after the cast."""
    tensors = [*module.parameters(), *module.buffers()]
    floating = sorted({str(t.dtype).removeprefix("torch.") for t in tensors if t.is_floating_point()})
    if floating:
        return ",".join(floating)
    # no floating parameters (e.g. a parameter-free graph): floating inputs are cast, so they set it
    return str(ctx.compute_dtype).removeprefix("torch.") if inputs else "none"


def _flatten(value: Any) -> list[Any]:
    """Tensors of a nested output (tuple, list, dict, NamedTuple) in order."""
    if isinstance(value, dict):
        return [t for v in value.values() for t in _flatten(v)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _flatten(v)]
    return [value]


def _to_host(value: Any, torch: Any) -> Any:
    if not isinstance(value, torch.Tensor):
        return value
    host = value.detach().cpu()
    # numpy has no bfloat16: widen to float32 (exact) so the output stays a numpy array
    return (host.float() if host.dtype == torch.bfloat16 else host).numpy()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
