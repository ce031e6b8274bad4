"""Data sources for ``--data``: plugins of the ``edgebench.datasets`` entry-point group.

A source has ``name``, ``detect(location) -> bool`` (cheap: a keyword, a suffix, a directory) and
``open(location, labels) -> Dataset``. Built in: ``builtin`` (the seven packaged photos),
``digits`` (scikit-learn's 8×8 digits), ``npz`` (arrays ``x``/``y``), ``list`` (a text file of
``path label`` lines — also ImageNet-val style ``file synset``), ``imagefolder`` (one sub-folder
per class; a flat folder of images is unlabelled, or labelled by the one ``.txt`` mapping inside),
and ``fake`` (seeded noise images, for tests). Targets are class indices in the dataset's own
label space (``Dataset.labels``); evaluation maps them onto the model's outputs.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from edgebench.accuracy.labels import Labels, imagenet
from edgebench.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

GROUP = "edgebench.datasets"
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})


@dataclass(frozen=True)
class Item:
    """One sample: an image file, an in-memory RGB image, or a ready tensor (no image preprocessing)."""

    name: str
    accepted: frozenset[int] = frozenset()  # right answers in the dataset's label space; empty = unlabelled
    path: Path | None = None
    pixels: Any = field(default=None, compare=False)  # HxWx3 uint8 ndarray
    tensor: Any = field(default=None, compare=False)  # ndarray fed as it is (cast to the input's dtype)


@dataclass(frozen=True)
class Dataset:
    name: str  # what the user passed, normalised ("builtin", "digits", "imagefolder:/data/val")
    items: tuple[Item, ...]
    labels: Labels | None  # names of the dataset's classes (None: plain indices)
    tensors: bool = False  # items are tensors: --preprocess does not apply

    @property
    def labelled(self) -> bool:
        return any(item.accepted for item in self.items)


@runtime_checkable
class DataSource(Protocol):
    name: ClassVar[str]

    def detect(self, location: str) -> bool: ...

    def open(self, location: str, labels: Labels | None) -> Dataset: ...


def _sources() -> dict[str, Any]:
    # one plugin mechanism for every axis: the registry imports and contract-checks each source
    from edgebench import registry

    return {name: registry.load(GROUP, name) for name in registry.names(GROUP)}


def source_names() -> list[str]:
    return sorted(_sources())


def open_dataset(location: str, labels: Labels | None = None, limit: int | None = None) -> Dataset:
    """``NAME:LOCATION`` picks a source; otherwise the first whose ``detect`` says yes (fake never guesses)."""
    sources = _sources()
    name, _, rest = location.partition(":")
    if rest and name in sources and not Path(location).exists():
        plugin, where = sources[name], rest
    else:
        order: list[str] = [n for n in ("builtin", "digits", "npz", "list", "imagefolder") if n in sources]
        order += [n for n in sorted(sources) if n not in order and n != "fake"]
        chosen = next((n for n in order if sources[n]().detect(location)), None)
        if chosen is None:
            raise UsageError(
                f"--data {location!r} is not a dataset edgebench can read",
                hint="give a folder of images (one sub-folder per class), a list file, an .npz with x/y, "
                "'digits' or 'builtin'",
            )
        plugin, where = sources[chosen], location
    dataset: Dataset = plugin().open(where, labels)
    if limit is not None:
        dataset = Dataset(dataset.name, dataset.items[:limit], dataset.labels, dataset.tensors)
    if not dataset.items:
        raise UsageError(f"dataset {dataset.name} has no samples", hint="check the folder or file")
    return dataset


def dataset_sha256(dataset: Dataset) -> str:
    """Content hash of what was evaluated: names, targets and each sample's bytes."""
    h = hashlib.sha256()
    for item in dataset.items:
        h.update(item.name.encode())
        h.update(repr(sorted(item.accepted)).encode())
        if item.path is not None:
            try:
                h.update(hashlib.sha256(item.path.read_bytes()).digest())
            except OSError:
                h.update(b"unreadable")
        for array in (item.pixels, item.tensor):
            if array is not None:
                h.update(_contiguous(array).tobytes())
    return h.hexdigest()


def _contiguous(array: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.ascontiguousarray(array)


class BuiltinSource:
    """The seven photos of :mod:`edgebench.accuracy.samples`, labelled in ImageNet-1k."""

    name = "builtin"

    def detect(self, location: str) -> bool:
        return location in ("builtin", "samples")

    def open(self, location: str, labels: Labels | None) -> Dataset:
        from edgebench.accuracy.samples import BUILTIN

        items = tuple(Item(s.name, s.accepted, path=s.path()) for s in BUILTIN)
        return Dataset("builtin", items, imagenet())


class DigitsSource:
    """scikit-learn's handwritten digits: 1797 8×8 images as float32 [1,8,8] tensors in [0,1] (x/16).

    ``digits:test`` takes the last 20 % (the split the tests train against), ``digits`` all of them.
    """

    name = "digits"

    def detect(self, location: str) -> bool:
        return location in ("digits", "digits:test", "digits:train")

    def open(self, location: str, labels: Labels | None) -> Dataset:

        x, y = digits_arrays()
        part = location.partition(":")[2] or (location if location in ("test", "train") else "")
        cut = int(len(x) * 0.8)
        if part == "test":
            x, y = x[cut:], y[cut:]
        elif part == "train":
            x, y = x[:cut], y[:cut]
        items = tuple(Item(f"digit-{i}", frozenset({int(t)}), tensor=x[i : i + 1]) for i, t in enumerate(y.tolist()))
        names = Labels("digits", tuple(str(d) for d in range(10)))
        return Dataset(f"digits{':' + part if part else ''}", items, names, tensors=True)


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(x float32 [1797,8,8] in [0,1], y int64 [1797]) from scikit-learn's bundled digits."""
    import numpy as np

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise UsageError("the digits dataset needs scikit-learn", hint="pip install 'edgebench[accuracy]'") from None
    data = load_digits()
    return (data.images / 16.0).astype(np.float32), data.target.astype(np.int64)


class NpzSource:
    """An .npz holding ``x`` (samples on axis 0, already preprocessed) and optionally ``y`` (int labels)."""

    name = "npz"

    def detect(self, location: str) -> bool:
        return location.lower().endswith(".npz")

    def open(self, location: str, labels: Labels | None) -> Dataset:
        import numpy as np

        path = Path(location)
        hint = "save with numpy.savez(path, x=..., y=...)"
        if not path.is_file():
            raise UsageError(f"{path} does not exist or is not a file", hint=hint)
        if not zipfile.is_zipfile(path):  # np.load would return a bare .npy array or try to unpickle the file
            raise UsageError(f"{path} is not an .npz archive", hint=hint)
        try:
            with np.load(path, allow_pickle=False) as data:
                if "x" not in data.files:
                    raise UsageError(f"{path.name} has no array 'x'", hint=f"keys: {', '.join(data.files) or 'none'}")
                x = data["x"]
                y = data["y"] if "y" in data.files else None
        except UsageError:
            raise
        except Exception as exc:  # a corrupt member surfaces as BadZipFile, zlib.error, ValueError, even
            # SyntaxError/TokenError from numpy's header parser: all mean "this file is damaged"
            reason = " ".join(str(exc).split())[:200]  # one line, and no page of binary garbage from a bad header
            raise UsageError(f"cannot read {path}: {type(exc).__name__}: {reason}", hint=hint) from exc
        if x.ndim < 1 or (y is not None and (y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu")):
            raise UsageError(f"{path.name}: y must be one integer label per row of x", hint="y.shape == (len(x),)")
        items = tuple(
            Item(f"{path.stem}[{i}]", frozenset() if y is None else frozenset({int(y[i])}), tensor=x[i : i + 1])
            for i in range(len(x))
        )
        return Dataset(f"npz:{path}", items, labels, tensors=True)


class ListSource:
    """A text file of ``path label`` lines (paths relative to the file); label = index, synset or name.

    ImageNet-val style mappings (``ILSVRC2012_val_00000001.JPEG n01751748``) are list files whose
    labels are synsets: pass a labels file with synsets (``n01440764 tench, …``) to name them.
    """

    name = "list"

    def detect(self, location: str) -> bool:
        return Path(location).is_file() and location.lower().endswith((".txt", ".lst", ".csv", ".tsv"))

    def open(self, location: str, labels: Labels | None) -> Dataset:
        path = Path(location)
        return Dataset(f"list:{path}", _read_list(path, path.parent, labels), labels)


def _read_list(path: Path, root: Path, labels: Labels | None) -> tuple[Item, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read list file {path}: {exc}", hint="UTF-8 text, one 'path label' per line") from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        # "path label" (label = the rest of the line, so "tabby, tabby cat" works), tab- or comma-separated too
        sep = "\t" if "\t" in line else ("," if "," in line and " " not in line.strip() else None)
        parts = line.strip().split(sep, 1)
        if len(parts) < 2:
            raise UsageError(f"{path.name}:{number}: expected 'path label', got {line.strip()!r}", hint="one per line")
        file = Path(parts[0].strip())
        items.append(
            Item(str(file), frozenset({_label_index(parts[1].strip(), labels, path, number)}), path=root / file)
        )
    return tuple(items)


def _label_index(text: str, labels: Labels | None, path: Path, number: int) -> int:
    if text.lstrip("-").isdigit():
        return int(text)
    found = labels.index_of(text) if labels is not None else None
    if found is None:
        raise UsageError(
            f"{path.name}:{number}: label {text!r} is neither an index nor a class of the labels file",
            hint="use integer labels, or pass --labels with these names/synsets",
        )
    return found


class ImageFolderSource:
    """One sub-folder per class (torchvision's ImageFolder); folder names that are integers are indices.

    Otherwise classes are the sorted folder names, or their indices in ``--labels`` when given.
    A folder of images without sub-folders is unlabelled, unless it holds exactly one ``.txt``
    mapping file (``file label`` lines, ImageNet-val style).
    """

    name = "imagefolder"

    def detect(self, location: str) -> bool:
        return Path(location).is_dir()

    def open(self, location: str, labels: Labels | None) -> Dataset:
        root = Path(location)
        classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not classes:
            return self._flat(root, labels)
        items: list[Item] = []
        for index, folder in enumerate(classes):
            target = _folder_index(folder.name, index, labels)
            items += [Item(f"{folder.name}/{f.name}", frozenset({target}), path=f) for f in _files(folder)]
        names = labels if labels is not None else _folder_labels(classes)
        return Dataset(f"imagefolder:{root}", tuple(items), names)

    def _flat(self, root: Path, labels: Labels | None) -> Dataset:
        mappings = sorted(root.glob("*.txt"))
        if len(mappings) == 1:
            return Dataset(f"imagenet-val:{root}", _read_list(mappings[0], root, labels), labels)
        items = tuple(Item(f.name, path=f) for f in _files(root))
        return Dataset(f"images:{root}", items, labels)


def _files(folder: Path) -> list[Path]:
    # every regular file counts (a corrupt or mislabelled one is skipped and counted, not hidden)
    return sorted(
        p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() != ".txt"
    )


def _folder_index(name: str, position: int, labels: Labels | None) -> int:
    if name.isdigit():
        return int(name)
    if labels is None:
        return position
    found = labels.index_of(name) if labels is not None else None
    if found is None:
        raise UsageError(
            f"class folder {name!r} is not in the labels file {labels.source}",
            hint="name the folders by class index, synset or the labels file's names",
        )
    return found


def _folder_labels(classes: Sequence[Path]) -> Labels | None:
    if all(c.name.isdigit() for c in classes):
        return None
    return Labels("folder names", tuple(c.name for c in classes))


class FakeSource:
    """``fake:N`` — N seeded noise images (64×48 RGB) with targets i mod 10: no files, for tests."""

    name = "fake"

    def detect(self, location: str) -> bool:
        return False  # only by name: fake:N

    def open(self, location: str, labels: Labels | None) -> Dataset:
        import numpy as np

        try:
            count = int(location or "8")
        except ValueError:
            raise UsageError(
                f"fake dataset size must be an integer, got {location!r}", hint="e.g. --data fake:8"
            ) from None
        rng = np.random.default_rng(0)
        items = tuple(
            Item(f"fake-{i}", frozenset({i % 10}), pixels=rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
            for i in range(max(0, count))
        )
        return Dataset(f"fake:{count}", items, labels)
