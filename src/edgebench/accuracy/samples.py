"""The built-in real sample set: seven photos that ship inside scikit-image, scikit-learn and matplotlib.

Each photo has a *set* of accepted ImageNet-1k classes (a tabby is also a fair "tiger cat"); class
indices use the 1000-class convention (torchvision / sorted synsets; TF-slim's 1001 labels are
these shifted by one, ``background`` at 0). The files are found through the installed packages'
locations — the packages themselves are not imported (scikit-learn takes a second to import).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edgebench.accuracy.preprocess import Layout, apply, get_preset, open_image
from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Sample:
    """One built-in photo: where it comes from and which ImageNet classes count as right."""

    name: str
    package: str  # the distribution that ships the file
    relpath: str  # inside the package's directory
    accepted: frozenset[int]  # ImageNet-1k indices (1000-class convention)
    licence: str

    def path(self) -> Path:
        return package_dir(self.package) / self.relpath


_SKIMAGE = "scikit-image"
BUILTIN: tuple[Sample, ...] = (
    Sample(
        "chelsea", _SKIMAGE, "data/chelsea.png", frozenset({281, 282, 283, 284, 285, 287}), "CC0 (Stefan van der Walt)"
    ),
    Sample("coffee", _SKIMAGE, "data/coffee.png", frozenset({967, 968, 504}), "CC0 (Rachel Michetti)"),
    Sample("rocket", _SKIMAGE, "data/rocket.jpg", frozenset({657, 744, 812}), "public domain (SpaceX)"),
    Sample(
        "stereo_motorcycle",
        _SKIMAGE,
        "data/motorcycle_left.png",
        frozenset({665, 670}),
        "Middlebury 2014 stereo benchmark (Scharstein et al.), as redistributed by scikit-image",
    ),
    Sample("china", "scikit-learn", "datasets/images/china.jpg", frozenset({698, 663}), "CC BY 2.0 (danielbuechele)"),
    Sample("flower", "scikit-learn", "datasets/images/flower.jpg", frozenset({985}), "CC BY 2.0 (vultilion)"),
    Sample(
        "grace_hopper",
        "matplotlib",
        "mpl-data/sample_data/grace_hopper.jpg",
        frozenset({652, 400, 667}),
        "public domain (U.S. Navy photo)",
    ),
)

# import name of each distribution's top-level package
_IMPORT_NAMES = {"scikit-image": "skimage", "scikit-learn": "sklearn", "matplotlib": "matplotlib"}


def package_dir(distribution: str) -> Path:
    """The installed package's directory, found without importing it."""
    module = _IMPORT_NAMES.get(distribution, distribution)
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise UsageError(
            f"the built-in sample set needs the package {distribution}, which is not installed",
            hint="pip install 'edgebench[accuracy]' (scikit-image, scikit-learn, matplotlib)",
        )
    return Path(next(iter(spec.submodule_search_locations)))


def builtin_samples(
    preprocess: str = "tf", size: int = 224, layout: Layout = "NCHW"
) -> tuple[np.ndarray, list[Sample]]:
    """The seven built-in photos preprocessed with ``preprocess``: float32 [7,3,size,size] (or NHWC).

    Stable API (used by the conversion matrix and [optimize]); ``raw-uint8`` gives 0..255 floats, which
    :func:`edgebench.accuracy.preprocess.to_input` casts or quantizes for the model's input.
    """
    import numpy as np

    if layout not in ("NCHW", "NHWC"):
        raise UsageError(f"layout must be NCHW or NHWC, got {layout!r}", hint="NCHW for ONNX/torch, NHWC for TFLite")
    if not (isinstance(size, int) and 8 <= size <= 4096):
        raise UsageError(f"size must be an int in [8, 4096], got {size!r}", hint="e.g. 224")
    preset = get_preset(preprocess)
    arrays = [apply(open_image(s.path()), preset, size, layout) for s in BUILTIN]
    return np.stack(arrays).astype(np.float32), list(BUILTIN)
