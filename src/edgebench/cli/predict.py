"""``edgebench predict``: the top-k classes of one image, optionally saved as an annotated PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from edgebench.cli._common import emit, parse_pairs


def register(app: typer.Typer) -> None:
    app.command("predict")(predict_command)


def predict_command(
    model: Annotated[str, typer.Argument(help="Zoo name or model file.")],
    image: Annotated[Path, typer.Argument(help="Image file (JPEG, PNG, BMP, …).")],
    top: Annotated[int, typer.Option(help="Number of classes to show.")] = 5,
    save: Annotated[Path | None, typer.Option(help="Write a PNG of the image with its top-k labels.")] = None,
    labels: Annotated[Path | None, typer.Option(help="Labels file (one class per line).")] = None,
    preprocess: Annotated[
        str | None, typer.Option(help="tf | torch | unit | minus1-1 | raw-uint8 (default: the model's own).")
    ] = None,
    backend: Annotated[str, typer.Option(help="Runtime plugin.")] = "onnxruntime",
    backend_option: Annotated[list[str] | None, typer.Option(help="Backend option KEY=VALUE (repeatable).")] = None,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the prediction as JSON.")] = False,
) -> None:
    """Classify IMAGE with MODEL and print the top-k labels with their scores."""
    from edgebench.accuracy.predict import predict, save_picture
    from edgebench.cli.eval import print_warnings

    result = predict(
        model,
        image,
        top=top,
        backend=backend,
        preprocess=preprocess,
        labels=labels,
        cache_dir=cache_dir,
        backend_options=parse_pairs(backend_option, "--backend-option"),
    )
    print_warnings(result)
    prediction = result.predictions[0]
    size = save_picture(image, prediction, save) if save is not None else None
    if json_out:
        import json

        doc = {
            "image": str(image),
            "top": [{"index": i, "label": label, "score": score} for i, label, score in prediction.top],
            "preprocess": result.preprocess,
            "labels": result.labels,
            "saved": str(save) if save is not None else None,
        }
        print(json.dumps(doc, indent=2, allow_nan=False))
        return
    lines: list[object] = [f"{image.name} · {result.model} · {result.backend} · preprocess {result.preprocess}"]
    lines += [
        f"{rank}. {score:6.1%}  {label} ({index})" for rank, (index, label, score) in enumerate(prediction.top, 1)
    ]
    if size is not None:
        lines.append(f"saved {save} ({size[0]}×{size[1]} px)")
    emit(*lines)
