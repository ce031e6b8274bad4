"""``python -m edgebench.energy.sidecar CONFIG OUT`` — the sampler process beside the worker.

It discovers the configured sources, writes one JSON header line (channels, absent sensors), then
one line per sample ``{"t": unix_ns, "v": {channel: value}}`` at the configured rate, flushed each
time (a crash loses at most one sample). SIGTERM makes it take one last sample and exit; it also
exits when its parent (the worker) dies — PR_SET_PDEATHSIG asks the kernel for the SIGTERM, and
the parent pid is polled as a fallback. It never touches the timed loop: it is another process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from edgebench.energy.select import Selection, open_sources

_EXTERNAL_TAIL_S = 1.0  # after stop, wait this long for a meter sample past the window's end


def main(config_path: Path, out_path: Path) -> int:
    config = json.loads(config_path.read_text())
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _s, _f: stop.set())
    selection = open_sources(config["sensors"], Path(config["root"]), config.get("power_cmd"))
    try:
        with out_path.open("w") as out:
            _write(out, {"header": _header(selection)})
            _loop(selection, out, 1.0 / float(config["hz"]), int(config["parent"]), stop)
    finally:
        selection.close()
    return 0


def _header(selection: Selection) -> dict[str, Any]:
    return {
        "channels": [dataclasses.asdict(ch) for ch in selection.channels],
        "absent": [{"sensor": s, "reason": r, "fix": f} for s, r, f in selection.absent],
        "pid": os.getpid(),
    }


def _loop(selection: Selection, out: IO[str], period: float, parent: int, stop: threading.Event) -> None:
    next_at = time.monotonic()
    while not stop.is_set() and os.getppid() == parent:
        _sample(selection, out)
        ended = _all_streams_ended(selection)
        if ended is not None:  # nothing left to sample: exit with the reason so the worker stops waiting
            _sample(selection, out)  # what the meter sent between the last drain and its exit
            print(ended, file=sys.stderr, flush=True)
            raise SystemExit(3)
        next_at += period
        stop.wait(max(0.0, next_at - time.monotonic()))
    _sample(selection, out)  # taken after the stop request: it closes the measured window
    _external_tail(selection, out, time.time_ns())


def _sample(selection: Selection, out: IO[str]) -> None:
    values: dict[str, float] = {}
    t0 = time.time_ns()
    for source, _ in selection.sources:
        try:
            values.update(source.read())
        except Exception as exc:  # one source's bad read costs that sample, not the run's other sensors
            print(f"{source.name}: read failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
    t1 = time.time_ns()
    if values:
        _write(out, {"t": (t0 + t1) // 2, "v": values})
    for source, channels in selection.sources:
        drain = getattr(source, "drain", None)
        if drain is not None:
            for t, watts in drain():
                _write(out, {"t": t, "v": {channels[0].key: watts}})


def _all_streams_ended(selection: Selection) -> str | None:
    """The reason, when every source is a stream (an external meter) whose command has exited."""
    reasons = [getattr(source, "finished", lambda: None)() for source, _ in selection.sources]
    if not reasons or any(r is None for r in reasons):
        return None
    return "; ".join(str(r) for r in reasons)


def _external_tail(selection: Selection, out: IO[str], stopped_ns: int) -> None:
    meters = [(s, chans) for s, chans in selection.sources if hasattr(s, "drain")]
    deadline = time.monotonic() + _EXTERNAL_TAIL_S
    while meters and time.monotonic() < deadline:
        late = [(t, w) for s, chans in meters for t, w in _drain_into(s, chans, out)]
        if any(t >= stopped_ns for t, _ in late):
            return
        time.sleep(0.02)


def _drain_into(source: Any, channels: list[Any], out: IO[str]) -> list[tuple[int, float]]:
    got: list[tuple[int, float]] = source.drain()
    for t, watts in got:
        _write(out, {"t": t, "v": {channels[0].key: watts}})
    return got


def _write(out: IO[str], payload: dict[str, Any]) -> None:
    out.write(json.dumps(payload, allow_nan=False) + "\n")
    out.flush()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
