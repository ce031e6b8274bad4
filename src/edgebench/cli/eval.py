"""``edgebench eval``: top-1/top-5 accuracy (Wilson 95% CI) of a classifier on real data, through any backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import emit, err_console, parse_pairs
from edgebench.zoo.catalog import DEFAULT_MODEL

if TYPE_CHECKING:
    from rich.console import Console

    from edgebench.accuracy.evaluate import Evaluation

MAX_ROWS = 25  # predictions printed in the table; --json has them all


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)


def eval_command(
    model: Annotated[str, typer.Argument(help="Zoo name or model file.")] = DEFAULT_MODEL,
    data: Annotated[
        str,
        typer.Option(
            help="Folder (one sub-folder per class), list file, .npz (x, y), 'digits', 'builtin' or NAME:LOCATION."
        ),
    ] = "builtin",
    labels: Annotated[
        Path | None, typer.Option(help="Labels file: one class per line (1000 or 1001 with background).")
    ] = None,
    preprocess: Annotated[
        str | None, typer.Option(help="tf | torch | unit | minus1-1 | raw-uint8 (default: the model's own).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Evaluate only the first N samples.")] = None,
    backend: Annotated[str, typer.Option(help="Runtime plugin.")] = "onnxruntime",
    threads: Annotated[int | None, typer.Option(help="Intra-op threads (default: runtime's).")] = None,
    backend_option: Annotated[list[str] | None, typer.Option(help="Backend option KEY=VALUE (repeatable).")] = None,
    metric: Annotated[str | None, typer.Option(help="Custom metric module:function(outputs, targets) -> dict.")] = None,
    top: Annotated[int, typer.Option(help="Classes listed per prediction.")] = 5,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Model cache (default: $EDGEBENCH_CACHE_DIR or XDG cache).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable result (keys: docs/accuracy.md).")] = False,
) -> None:
    """Accuracy of MODEL (default: EfficientNet-Lite0) on DATA (default: the 7 built-in real photos)."""
    from edgebench.accuracy.evaluate import evaluate
    from edgebench.errors import UsageError

    if not 1 <= top <= 100:
        raise UsageError(f"--top must be in [1, 100], got {top}", hint="e.g. --top 5")
    result = evaluate(
        model,
        data,
        backend=backend,
        preprocess=preprocess,
        labels=labels,
        limit=limit,
        metric=metric,
        top=top,
        threads=threads,
        backend_options=parse_pairs(backend_option, "--backend-option"),
        cache_dir=cache_dir,
    )
    print_warnings(result)
    if json_out:
        import json

        print(json.dumps(result.to_json(), indent=2, allow_nan=False))
        return
    emit(*render(result), out=_out())


def _out() -> Console:
    """Piped output is never wrapped: a long label or the labels line stays on one line (grep-friendly)."""
    from rich.console import Console

    from edgebench.cli._common import console

    return console if console.is_terminal else Console(width=400, highlight=False, soft_wrap=True)


def print_warnings(result: Evaluation) -> None:
    """One stderr line per warning; skipped files are summed up in one line."""
    skipped = [w for w in result.warnings if w.startswith("skipped ")]
    for warning in result.warnings:
        if warning not in skipped:
            err_console.print(f"[yellow]warning:[/yellow] {warning}")
    if skipped:
        shown = "; ".join(w.removeprefix("skipped ") for w in skipped[:3]) + ("; …" if len(skipped) > 3 else "")
        err_console.print(f"[yellow]warning:[/yellow] skipped {len(skipped)} unreadable sample(s): {shown}")


def render(result: Evaluation) -> list[object]:
    from rich.table import Table

    table = Table(title=f"{result.model} · {result.backend} · {result.dataset}", title_justify="left")
    for column in ("sample", "top-1", "score", "right?"):
        table.add_column(column, justify="right" if column == "score" else "left")
    for p in result.predictions[:MAX_ROWS]:
        index, label, score = p.top[0]
        verdict = "-" if p.top1 is None else ("top-1" if p.top1 else ("top-5" if p.top5 else "no"))
        table.add_row(p.name, f"{label} ({index})", f"{score:.3f}", verdict)
    lines: list[object] = [table]
    if len(result.predictions) > MAX_ROWS:
        lines.append(f"… {len(result.predictions) - MAX_ROWS} more (use --json for all)")
    lines.append(summary_line(result))
    lines.append(f"preprocess: {result.preprocess} · labels: {result.labels}")
    return lines


def summary_line(result: Evaluation) -> str:
    if result.top1_correct is None or result.top1 is None or result.top1_ci95 is None:
        return f"{result.samples} samples, no labels: predictions only (skipped {result.skipped})"
    lo, hi = result.top1_ci95
    n = result.labelled
    top5 = f" · top-5 {result.top5:.1%} ({result.top5_correct}/{n})" if result.top5 is not None else ""
    metrics = "".join(f" · {k} {v}" for k, v in result.metrics.items())
    return (
        f"top-1 {result.top1:.1%} ({result.top1_correct}/{n}, 95% CI {lo:.1%}–{hi:.1%} Wilson){top5}"
        f" · skipped {result.skipped}{metrics}"
    )
