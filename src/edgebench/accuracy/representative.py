"""Representative data from a few real photos: seeded flips, crops, scale and colour jitter.

Quantization needs calibration data that looks like deployment data, and its evaluation needs
*other* data. Disjointness is by construction: the source photos are split first — sorted by name,
even positions calibrate, odd positions evaluate — so no evaluation sample is derived from a
photo the calibration saw. Each sample's augmentation is drawn from ``numpy.random.default_rng``
seeded with ``(seed, split, index)``, so a sample is reproducible on its own.

Augmentation of one sample, in order:

1. crop: area fraction U(0.35, 1) of the photo, aspect ratio log-uniform in [3/4, 4/3], position uniform;
2. scale: the crop becomes ``size × size`` through the preset (resize short side, centre crop);
3. horizontal flip with probability 0.5;
4. colour jitter: brightness ×U(0.7, 1.3), contrast ×U(0.7, 1.3) about the mean, saturation ×U(0.7, 1.3)
   (applied to the 0..255 pixels before the preset's scaling, clipped to 0..255).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from edgebench.accuracy.preprocess import Layout, Preset, apply, get_preset, open_image
from edgebench.accuracy.samples import BUILTIN, package_dir
from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

Split = Literal["calibration", "evaluation"]
_SPLIT_ID = {"calibration": 0, "evaluation": 1}

# Extra real photos shipped with scikit-image, non-ImageNet ones included on purpose (coins,
# camera, microscopy, astronomy): a harsh set shows where a quantized model stops agreeing.
EXTRA_SKIMAGE = (
    "astronaut.png",
    "camera.png",
    "coins.png",
    "ihc.png",
    "hubble_deep_field.jpg",
    "retina.jpg",
    "motorcycle_right.png",
    "brick.png",
    "grass.png",
    "moon.png",
    "cell.png",
    "gravel.png",
)


@dataclass(frozen=True)
class Augmentation:
    """The parameters drawn for one sample (kept so a report can say what each sample is)."""

    source: str
    box: tuple[int, int, int, int]  # crop (left, top, right, bottom) in source pixels
    flip: bool
    brightness: float
    contrast: float
    saturation: float


def default_sources() -> list[Path]:
    """The seven built-in photos plus the extra scikit-image photos, sorted by file name."""
    paths = [s.path() for s in BUILTIN]
    skimage = package_dir("scikit-image") / "data"
    paths += [skimage / name for name in EXTRA_SKIMAGE if (skimage / name).is_file()]
    return sorted(paths, key=lambda p: p.name)


def split_sources(sources: list[Path], split: Split) -> list[Path]:
    """The photos of one split: sorted by name, even positions calibrate, odd positions evaluate."""
    if split not in _SPLIT_ID:
        raise UsageError(f"split must be calibration or evaluation, got {split!r}", hint="calibration | evaluation")
    ordered = sorted(sources, key=lambda p: p.name)
    return ordered[_SPLIT_ID[split] :: 2]


def representative_set(
    n: int,
    split: Split = "calibration",
    *,
    seed: int = 0,
    preprocess: str = "tf",
    size: int = 224,
    layout: Layout = "NCHW",
    sources: list[Path] | None = None,
) -> tuple[np.ndarray, list[Augmentation]]:
    """``n`` augmented samples, float32 [n, 3, size, size] (or NHWC), and how each was made."""
    import numpy as np

    if not (isinstance(n, int) and 1 <= n <= 100_000):
        raise UsageError(f"n must be an int in [1, 100000], got {n!r}", hint="e.g. 64 calibration samples")
    photos = split_sources(sources if sources is not None else default_sources(), split)
    if not photos:
        raise UsageError(f"no source photo for the {split} split", hint="give at least two sources")
    preset = get_preset(preprocess)
    images = [open_image(p) for p in photos]
    out, made = [], []
    for index in range(n):
        rng = np.random.default_rng([seed, _SPLIT_ID[split], index])
        which = index % len(images)
        x, aug = _augment(images[which], photos[which].name, rng, preset, size, layout)
        out.append(x)
        made.append(aug)
    return np.stack(out).astype(np.float32), made


def _augment(
    img: Image.Image, name: str, rng: np.random.Generator, preset: Preset, size: int, layout: Layout
) -> tuple[np.ndarray, Augmentation]:
    import numpy as np
    from PIL import Image

    w, h = img.size
    area = rng.uniform(0.35, 1.0) * w * h
    aspect = float(np.exp(rng.uniform(np.log(3 / 4), np.log(4 / 3))))
    cw = int(min(w, max(8, round((area * aspect) ** 0.5))))
    ch = int(min(h, max(8, round((area / aspect) ** 0.5))))
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    flip = bool(rng.random() < 0.5)
    brightness, contrast, saturation = (float(v) for v in rng.uniform(0.7, 1.3, size=3))
    crop = img.crop((left, top, left + cw, top + ch))
    if flip:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    pixels = _jitter(np.asarray(crop, dtype=np.float32), brightness, contrast, saturation)
    x = apply(Image.fromarray(pixels), preset, size, layout)
    return x, Augmentation(name, (left, top, left + cw, top + ch), flip, brightness, contrast, saturation)


def _jitter(pixels: np.ndarray, brightness: float, contrast: float, saturation: float) -> np.ndarray:
    import numpy as np

    x = pixels * brightness
    x = (x - x.mean()) * contrast + x.mean()
    grey = x.mean(axis=2, keepdims=True)
    x = (x - grey) * saturation + grey
    result: np.ndarray = np.clip(x, 0, 255).astype(np.uint8)
    return result
