"""Class labels and the two ImageNet conventions: 1000 classes, or TF-slim's 1001 with ``background`` at 0.

A label file is one class per line (``name`` or ``n01440764 name``, synset first as in
``synset_words.txt``). Dataset targets live in the label file's index space; :func:`offset_for`
says how to shift them onto the model's outputs (+1 for a 1000-label dataset on a 1001-output
model, −1 the other way) and refuses a count that fits neither.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from edgebench.errors import UsageError

_SYNSET = re.compile(r"^n\d{8}$")
IMAGENET = "imagenet-1k"


@dataclass(frozen=True)
class Labels:
    """Class names in index order; ``background`` is True for TF-slim's extra class 0."""

    source: str  # "imagenet-1k (built in)" or the file's path
    names: tuple[str, ...]
    synsets: tuple[str, ...] = ()  # parallel to names when the file gives them
    background: bool = False

    @property
    def classes(self) -> int:
        """Real classes (background excluded)."""
        return len(self.names) - (1 if self.background else 0)

    def name(self, index: int) -> str:
        return self.names[index] if 0 <= index < len(self.names) else f"class {index}"

    def index_of(self, key: str) -> int | None:
        """Index of a class given by synset, full name or first comma-separated name (case-insensitive)."""
        if key in self.synsets:
            return self.synsets.index(key)
        wanted = key.strip().lower()
        for i, name in enumerate(self.names):
            if name.lower() == wanted or name.split(",")[0].strip().lower() == wanted:
                return i
        return None

    def as_1000(self) -> Labels:
        """The same labels without TF-slim's background class."""
        if not self.background:
            return self
        return Labels(self.source, self.names[1:], self.synsets[1:] if self.synsets else (), False)


def imagenet() -> Labels:
    """The 1000 ImageNet-1k class names in the standard (sorted synset, torchvision) order."""
    text = resources.files("edgebench.accuracy").joinpath("imagenet_classes.txt").read_text(encoding="utf-8")
    return Labels(f"{IMAGENET} (built in)", tuple(line for line in text.splitlines() if line.strip()))


def load_labels(path: Path) -> Labels:
    """Read a label file; ``background`` (any case) on the first line marks the 1001 convention."""
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read labels file {path}: {exc}", hint="one class name per line, UTF-8") from exc
    if not lines:
        raise UsageError(f"labels file {path} is empty", hint="one class name per line")
    synsets: list[str] = []
    names: list[str] = []
    for line in lines:
        head, _, rest = line.partition(" ")
        if _SYNSET.match(head) and rest:
            synsets.append(head)
            names.append(rest.strip())
        else:
            names.append(line)
    if synsets and len(synsets) != len(names):
        synsets = []  # a mixed file: names only
    background = names[0].lower() in {"background", "__background__", "0:background"}
    return Labels(str(path), tuple(names), tuple(synsets), background)


def offset_for(labels: Labels, model_classes: int) -> int:
    """Shift from label index to model output index, or UsageError when the counts cannot match."""
    if model_classes == len(labels.names):
        return 0
    if model_classes == len(labels.names) + 1 and not labels.background:
        return 1  # 1001-output model (background at 0), 1000-class labels
    if model_classes == len(labels.names) - 1 and labels.background:
        return -1  # 1000-output model, TF-slim labels
    raise UsageError(
        f"the model has {model_classes} output classes but the labels ({labels.source}) have {len(labels.names)}",
        hint="pass the labels file that belongs to this model with --labels",
    )
