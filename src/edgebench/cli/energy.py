"""``edgebench energy``: which sensors ``--energy auto`` would use here, and a record's energy figures.

``energy sensors`` lists every sensor source with its channels, or why it is absent and the fix.
``energy show RECORD`` prints the energy headline (± k=2, sensor and domain named), every reading,
throttling evidence and, for a soak (``bench --duration``), the per-minute table — plus a PNG plot
with ``--plot FILE`` when matplotlib is installed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edgebench.cli._common import emit

if TYPE_CHECKING:
    from edgebench.records import Energy

energy_app = typer.Typer(help="Energy sensors and a record's energy, power, temperature and throttling.")


def register(app: typer.Typer) -> None:
    app.add_typer(energy_app, name="energy")


@energy_app.command("sensors")
def sensors(
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable list.")] = False,
) -> None:
    """What `bench --energy auto` would sample on this machine ($EDGEBENCH_SYSFS_ROOT: a fake /sys tree)."""
    import dataclasses
    import json
    import os

    from edgebench.energy.options import ROOT_ENV
    from edgebench.energy.select import open_sources, wanted

    selection = open_sources(wanted("auto", None), Path(os.environ.get(ROOT_ENV) or "/"), None)
    selection.close()
    if json_out:
        payload = {
            "channels": [dataclasses.asdict(c) for c in selection.channels],
            "absent": [{"sensor": s, "reason": r, "fix": f} for s, r, f in selection.absent],
        }
        print(json.dumps(payload, indent=2))
        return
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    table = Table("sensor", "domain", "kind", "role", "note")
    for ch in selection.channels:
        role = ("primary " if ch.primary else "") + ch.role
        table.add_row(escape(ch.sensor), escape(ch.domain), ch.kind, role, escape(ch.note or ""))
    absent = [Text(f"{s}: absent — {r}" + (f" (fix: {f})" if f else "")) for s, r, f in selection.absent]
    emit(table, *absent)


@energy_app.command("show")
def show(
    record_id: Annotated[str, typer.Argument(help="Record id (a unique prefix is enough).")],
    db: Annotated[Path | None, typer.Option(help="Results database (default: user data dir).")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write the soak timeline as a PNG (needs matplotlib).")] = None,
) -> None:
    """A record's energy block: headline, readings, throttling, soak timeline."""
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    from edgebench.energy.render import energy_lines, timeline_rows
    from edgebench.errors import UsageError
    from edgebench.stores import open_store

    record = open_store(db, read_only=True).get(record_id)
    energy = record.energy
    if energy is None:
        raise UsageError(f"record {record.id} has no energy block (run with --energy off)", hint="bench --energy auto")
    readings = Table("sensor", "domain", "role", "status", "energy", "mean power", "note")
    for r in energy.readings:
        figure = f"{r.energy_j:.4g} ± {r.energy_uncertainty_j or 0:.2g} J" if r.energy_j is not None else "—"
        power = f"{r.mean_power_w:.3g} W" if r.mean_power_w is not None else "—"
        readings.add_row(escape(r.sensor), escape(r.domain), r.role, r.status, figure, power, escape(r.reason or ""))
    parts: list[object] = [*(Text(line) for line in energy_lines(record)), readings]
    if energy.timeline:
        soak = Table("time", "throughput", "temperature", "clock", "power", title="sustained run")
        for row in timeline_rows(energy):
            soak.add_row(*row)
        parts.append(soak)
    if plot is not None:
        parts.append(Text(_plot(energy, plot)))
    emit(*parts)


def _plot(energy: Energy, path: Path) -> str:
    import os

    from edgebench.errors import UsageError

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise UsageError("--plot needs matplotlib", hint="pip install matplotlib") from exc
    if not energy.timeline:
        raise UsageError("this record has no timeline to plot", hint="record one with bench --duration 10m")
    if not path.parent.is_dir():
        raise UsageError(f"--plot folder {path.parent} does not exist", hint="create it first or choose another path")
    minutes = [p.start_s / 60 for p in energy.timeline]
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(7, 6))
    series = (
        ("throughput (inf/s)", [p.throughput_ips for p in energy.timeline]),
        ("temperature (°C)", [p.temperature_c for p in energy.timeline]),
        ("clock (MHz)", [p.frequency_hz / 1e6 if p.frequency_hz else None for p in energy.timeline]),
    )
    for ax, (label, values) in zip(axes, series, strict=True):
        ax.plot(minutes, [float("nan") if v is None else v for v in values], marker="o")
        ax.set_ylabel(label)
    axes[-1].set_xlabel("minute")
    fig.tight_layout()
    # into a temporary file beside it, then renamed: a failed write leaves no half-written PNG
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write --plot {path}: {exc.strerror or exc}", hint="choose a writable path") from exc
    finally:
        plt.close(fig)
    return f"plot written to {path}"
