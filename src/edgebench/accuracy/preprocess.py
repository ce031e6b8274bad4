"""Preprocessing presets: image → the tensor a model was trained on.

A preset names every step (resize of the short side, centre crop, scaling, layout) so that the
record can say exactly what was done; a wrong preset costs accuracy visibly, which is why the
chosen preset is stored with every accuracy result. Quantized inputs (int8/uint8 with scale and
zero point) get the preset's real values quantized; ``raw-uint8`` feeds the pixels as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from edgebench.protocols import IOSpec

Scaling = Literal["tf", "torch", "unit", "raw", "minus1-1"]
Layout = Literal["NCHW", "NHWC"]

_TORCH_MEAN = (0.485, 0.456, 0.406)
_TORCH_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Preset:
    """One named preprocessing recipe; ``resize`` is the short side before the centre crop (0: crop only)."""

    name: str
    scaling: Scaling
    interpolation: Literal["bicubic", "bilinear"]
    crop_fraction: float  # crop size / short side after resize (224/256 = 0.875); 1.0 = resize to size
    description: str

    def resize_for(self, size: int) -> int:
        return round(size / self.crop_fraction)


PRESETS: dict[str, Preset] = {
    "tf": Preset(
        "tf", "tf", "bicubic", 0.875, "resize short side to size/0.875 bicubic, centre crop, (x-127)/128 (TF inception)"
    ),
    "torch": Preset(
        "torch",
        "torch",
        "bilinear",
        0.875,
        "resize short side to size/0.875 bilinear, centre crop, x/255 then ImageNet mean/std (torchvision)",
    ),
    "unit": Preset("unit", "unit", "bilinear", 0.875, "resize short side bilinear, centre crop, x/255 → [0,1]"),
    "minus1-1": Preset(
        "minus1-1", "minus1-1", "bilinear", 0.875, "resize short side bilinear, centre crop, x/127.5-1 → [-1,1]"
    ),
    "raw-uint8": Preset(
        "raw-uint8", "raw", "bilinear", 0.875, "resize short side bilinear, centre crop, pixels 0..255 unscaled"
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise UsageError(f"unknown --preprocess {name!r}", hint=f"choose one of: {', '.join(PRESETS)}") from None


def open_image(path: Path) -> Image.Image:
    """An RGB image, or ValueError naming what is wrong (callers skip and count unreadable files)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.load()
            rgb: Image.Image = img.convert("RGB")
            return rgb
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValueError(f"{path.name}: not a readable image ({type(exc).__name__})") from exc


def from_array(pixels: np.ndarray) -> Image.Image:
    """An HxW or HxWx3/4 uint8 array (the packaged sample images) as an RGB PIL image."""
    from PIL import Image

    return Image.fromarray(pixels).convert("RGB")


def apply(img: Image.Image, preset: Preset, size: int, layout: Layout = "NCHW") -> np.ndarray:
    """Resize the short side, centre-crop ``size``×``size``, scale: float32 [3,H,W] or [H,W,3]."""
    import numpy as np
    from PIL import Image

    resample = Image.Resampling.BICUBIC if preset.interpolation == "bicubic" else Image.Resampling.BILINEAR
    short = preset.resize_for(size)
    w, h = img.size
    scale = short / min(w, h)
    resized = img.resize((max(size, round(w * scale)), max(size, round(h * scale))), resample)
    rw, rh = resized.size
    left, top = (rw - size) // 2, (rh - size) // 2
    pixels = np.asarray(resized.crop((left, top, left + size, top + size)), dtype=np.float32)
    x = _scale(pixels, preset.scaling)
    return np.ascontiguousarray(x.transpose(2, 0, 1) if layout == "NCHW" else x)


def _scale(pixels: np.ndarray, scaling: Scaling) -> np.ndarray:
    import numpy as np

    if scaling == "tf":
        return (pixels - 127.0) / 128.0
    if scaling == "torch":
        return ((pixels / 255.0 - np.asarray(_TORCH_MEAN, np.float32)) / np.asarray(_TORCH_STD, np.float32)).astype(
            np.float32
        )
    if scaling == "unit":
        return pixels / 255.0
    if scaling == "minus1-1":
        return pixels / 127.5 - 1.0
    return pixels


def to_input(x: np.ndarray, spec: IOSpec, scaling: Scaling) -> np.ndarray:
    """Cast a preprocessed batch to the input's dtype; quantize real values when the input is int8/uint8.

    ``raw`` pixels go into a uint8 input unchanged (the model's own quantization expects them);
    real-valued presets are quantized with the input's scale/zero point: q = round(x/scale + zp).
    """
    import numpy as np

    dtype = np.dtype(spec.dtype)
    if dtype.kind not in "iu":
        return x.astype(dtype, copy=False)
    info = np.iinfo(dtype)
    if scaling == "raw":
        values = x if dtype == np.uint8 else x - 128.0  # int8 inputs take pixels shifted to −128..127
    elif spec.scale:
        values = np.round(x / spec.scale + (spec.zero_point or 0))
    else:
        raise UsageError(
            f"input {spec.name!r} is {spec.dtype} without quantization parameters; a real-valued preset cannot fill it",
            hint="use --preprocess raw-uint8",
        )
    return np.clip(values, info.min, info.max).astype(dtype)


def layout_of(spec: IOSpec) -> Layout:
    """NHWC when the last axis has 3 channels (TFLite, Keras), else NCHW."""
    shape = spec.shape or ()
    return "NHWC" if len(shape) == 4 and shape[-1] == 3 else "NCHW"


def image_size(spec: IOSpec, layout: Layout, default: int = 224) -> int:
    """The square side the model takes (its fixed H/W), or ``default`` for dynamic spatial dims."""
    shape = spec.shape or ()
    if len(shape) != 4:
        return default
    h = shape[1] if layout == "NHWC" else shape[2]
    return h if isinstance(h, int) and h > 0 else default
