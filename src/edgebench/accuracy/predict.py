"""``predict``: one image → top-k labels, and a PNG of the image with them (the guide's show_predictions).

The picture is drawn with Pillow (already a core dependency): the photo scaled to ``WIDTH`` pixels
wide, aspect kept, above a panel with one bar per label (bar length = score). Its size is
``WIDTH × (round(WIDTH·h/w) + PAD + ROW·k + PAD)`` — stated so that tests and reports can rely on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgebench.accuracy.datasets import Dataset, Item
from edgebench.errors import UsageError

if TYPE_CHECKING:
    from edgebench.accuracy.evaluate import Evaluation, Prediction

WIDTH = 480
ROW = 26
PAD = 10


def predict(
    model: str,
    image: Path,
    *,
    top: int = 5,
    backend: str = "onnxruntime",
    preprocess: str | None = None,
    labels: Path | None = None,
    cache_dir: Path | None = None,
    backend_options: dict[str, Any] | None = None,
) -> Evaluation:
    """Top-``top`` classes of one image (an :class:`Evaluation` with one unlabelled prediction)."""
    from edgebench.accuracy.evaluate import _quiet_runtime, evaluate_with, open_runner
    from edgebench.accuracy.labels import load_labels
    from edgebench.accuracy.preprocess import open_image

    if not 1 <= top <= 100:
        raise UsageError(f"--top must be in [1, 100], got {top}", hint="e.g. --top 5")
    if not image.is_file():
        what = "is a directory, not an image file" if image.is_dir() else "does not exist"
        raise UsageError(f"image {image} {what}", hint="pass a JPEG/PNG/BMP file")
    try:
        open_image(image)
    except ValueError as exc:
        raise UsageError(str(exc), hint="pass a JPEG/PNG/BMP file") from None
    user_labels = load_labels(labels) if labels is not None else None
    dataset = Dataset(f"image:{image}", (Item(image.name, path=image),), user_labels)
    with _quiet_runtime():
        runner = open_runner(model, backend=backend, backend_options=backend_options, cache_dir=cache_dir)
        try:
            return evaluate_with(runner, dataset, preprocess=preprocess, user_labels=user_labels, top=top)
        finally:
            runner.close()


def picture_size(image_size: tuple[int, int], k: int) -> tuple[int, int]:
    """(width, height) of the PNG for an image of ``image_size`` (w, h) and ``k`` labels."""
    w, h = image_size
    return WIDTH, max(1, round(WIDTH * h / w)) + 2 * PAD + ROW * k


def save_picture(image: Path, prediction: Prediction, out: Path) -> tuple[int, int]:
    """Write the annotated PNG; returns its (width, height)."""
    from PIL import Image, ImageDraw

    from edgebench.accuracy.preprocess import open_image

    photo = open_image(image)
    width, height = picture_size(photo.size, len(prediction.top))
    photo_h = height - 2 * PAD - ROW * len(prediction.top)
    canvas = Image.new("RGB", (width, height), "white")
    canvas.paste(photo.resize((width, photo_h), Image.Resampling.BILINEAR), (0, 0))
    draw = ImageDraw.Draw(canvas)
    font = _font()
    for row, (_index, label, score) in enumerate(prediction.top):
        y = photo_h + PAD + row * ROW
        draw.rectangle((PAD, y + 3, PAD + round((width - 2 * PAD) * max(0.0, min(1.0, score))), y + ROW - 3), fill=_BAR)
        draw.text((PAD + 4, y + 4), f"{score:6.1%}  {label}"[:70], fill="black", font=font)
    _write_png(canvas, out)
    return width, height


def _write_png(canvas: Any, out: Path) -> None:
    """Encode in memory, then a temporary file renamed over ``out``: never a truncated PNG under that name."""
    import io
    import os
    import secrets

    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    tmp: Path | None = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.is_dir():
            raise IsADirectoryError(21, "Is a directory")
        tmp = out.with_name(f".{out.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # & umask, like a plain open()
        with os.fdopen(fd, "wb") as handle:
            handle.write(buffer.getvalue())
        os.replace(tmp, out)
        tmp = None
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}", hint="choose a writable path") from exc
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


_BAR = (173, 216, 230)


def _font() -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=15)
    except (TypeError, OSError):  # Pillow < 10.1 or no FreeType: the fixed bitmap font
        return ImageFont.load_default()
