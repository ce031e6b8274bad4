"""The worker-side hook: start the sampler, measure the idle baseline, and turn samples into ``Energy``.

``start_energy(spec, workdir)`` before the model loads (the machine is idle: that is where the
baseline comes from), ``with run:`` around the scenario (the sampler is stopped whatever happens),
``run.finish(outcome, batch)`` afterwards. With ``--energy off`` every step is a no-op.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType

from edgebench.energy.source import Channel, die_with_parent
from edgebench.records import Artifact, Energy, EnergyReading, RunSpec, ValidityWarning, Window

SAMPLES_FILE = "energy-samples.jsonl"
_READY_TIMEOUT_S = 15.0
_STOP_TIMEOUT_S = 5.0
_FIRST_SAMPLE_WAIT_S = 3.0  # after the header: how long an external meter gets to send its first sample
MAX_COOLDOWN_S = 120.0  # with the idle baseline (≤ 60 s) inside the local executor's 300 s spawn allowance


@dataclass
class Trace:
    """What the sampler wrote: channels, absent sensors, samples per channel key."""

    channels: list[Channel]
    absent: list[tuple[str, str, str | None]]
    samples: dict[str, list[tuple[int, float]]] = field(default_factory=dict)


def read_trace(path: Path) -> Trace | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    if not lines:
        return None
    header = json.loads(lines[0])["header"]
    trace = Trace(
        [Channel(**c) for c in header["channels"]], [(a["sensor"], a["reason"], a["fix"]) for a in header["absent"]]
    )
    for line in lines[1:]:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:  # the sampler was killed mid-line: the last sample is lost, no more
            continue
        for key, value in row["v"].items():
            trace.samples.setdefault(key, []).append((int(row["t"]), float(value)))
    return trace


class EnergyRun:
    """One run's sampler. Inactive (``spec.energy == "off"``) it does nothing and finishes with None."""

    def __init__(self, spec: RunSpec, workdir: Path) -> None:
        self.spec = spec
        self.path = workdir / SAMPLES_FILE
        self._proc: subprocess.Popen[bytes] | None = None
        self.baseline: tuple[int, int] | None = None
        self.cooldown_s: float | None = None
        self._absent_only: list[tuple[str, str, str | None]] | None = None
        self.sampler_error: str | None = None

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> EnergyRun:
        from edgebench.energy.select import open_sources, wanted

        names = wanted(self.spec.energy, self.spec.power_cmd)
        if not names:
            return self
        # discovery here too is cheap and spares a sampler process where there is nothing to read
        probe = open_sources([n for n in names if n != "external"], Path(self.spec.energy_root), None)
        probe.close()
        if not probe.sources and not self.spec.power_cmd:
            self._absent_only = probe.absent
            return self
        self._spawn(names)
        if self.spec.cooldown_c is not None:
            self.cooldown_s = self._cool_down()
        if self.spec.idle_baseline_s > 0:
            b0 = time.time_ns()
            time.sleep(self.spec.idle_baseline_s)
            self.baseline = (b0, time.time_ns())
        return self

    def _spawn(self, names: list[str]) -> None:
        import os

        config = self.path.with_suffix(".config.json")
        config.write_text(
            json.dumps(
                {
                    "sensors": names,
                    "root": self.spec.energy_root,
                    "hz": self.spec.sample_hz,
                    "power_cmd": self.spec.power_cmd,
                    "parent": os.getpid(),
                }
            )
        )
        cmd = [sys.executable, "-m", "edgebench.energy.sidecar", str(config), str(self.path)]
        # stderr to a file, never a pipe: a chatty sampler must not block on a full pipe mid-run
        with self.path.with_suffix(".log").open("wb") as log:
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log, preexec_fn=die_with_parent
            )
        deadline = time.monotonic() + _READY_TIMEOUT_S
        header_at: float | None = None
        while time.monotonic() < deadline and self._proc.poll() is None:
            lines = _lines(self.path)
            if lines >= 2:  # header and a first sample: the sampler is running
                return
            if lines == 1 and header_at is None:
                header_at = time.monotonic()
            # a meter that is up but silent (or printing garbage) must not stall every run for the full timeout
            if header_at is not None and time.monotonic() - header_at > _FIRST_SAMPLE_WAIT_S:
                return
            time.sleep(0.01)

    def _cool_down(self) -> float:
        """Wait (≤ MAX_COOLDOWN_S) until the hottest sensor is within ``cooldown_c`` of the idle reading."""
        target = self.spec.cooldown_c or 0.0
        idle = self.spec.cooldown_idle_c
        t0 = time.monotonic()
        while idle is not None and time.monotonic() - t0 < MAX_COOLDOWN_S:
            hottest = _hottest(read_trace(self.path))
            if hottest is None or hottest <= idle + target:
                break
            time.sleep(1.0)
        return time.monotonic() - t0

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.returncode not in (0, -15):  # -15: our own SIGTERM arrived before its handler was installed
            log = self.path.with_suffix(".log")
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            self.sampler_error = f"the energy sampler exited with {proc.returncode}: {' '.join(tail)[:300]}"

    def __enter__(self) -> EnergyRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- the energy block ---------------------------------------------------------------------------

    def finish(
        self, window: Window | None, latencies_ns: list[int], batch: int
    ) -> tuple[Energy | None, list[ValidityWarning], tuple[Artifact, ...]]:
        self.stop()
        if self.spec.energy == "off":
            return None, [], ()
        if self._absent_only is not None:
            return _unavailable(self._absent_only), [], ()
        trace = read_trace(self.path)
        if trace is None or window is None:
            why = self.sampler_error or "the energy sampler wrote nothing"
            return _unavailable([("sampler", why, None)]), [], ()
        from edgebench.energy.build import build_energy

        energy, warnings = build_energy(trace, self.spec, window, latencies_ns, batch, self.baseline)
        if energy.energy_unavailable_reason and self.sampler_error:
            why = f"{energy.energy_unavailable_reason}; {self.sampler_error}"
            energy = replace(energy, energy_unavailable_reason=why)
        from edgebench.engine.artifacts import describe

        artifact = describe(self.path, "energy_trace", "application/x-ndjson", f"{_rows(trace)} sensor samples")
        return energy, warnings, (artifact,)


def start_energy(spec: RunSpec, workdir: Path) -> EnergyRun:
    run = EnergyRun(spec, workdir)
    try:
        return run.start()
    except BaseException:
        run.stop()
        raise


def _unavailable(absent: list[tuple[str, str, str | None]]) -> Energy:
    readings = tuple(EnergyReading(s, "-", "absent", reason=r, fix=f) for s, r, f in absent if s != "thermal")
    reasons = "; ".join(f"{s}: {r}" for s, r, _ in absent if s != "thermal") or "no energy sensor"
    return Energy(readings=readings, energy_unavailable_reason=f"no energy sensor readable ({reasons})")


def _lines(path: Path) -> int:
    try:
        with path.open() as f:
            return sum(1 for _ in f)
    except OSError:
        return 0


def _rows(trace: Trace) -> int:
    return max((len(v) for v in trace.samples.values()), default=0)


def _hottest(trace: Trace | None) -> float | None:
    if trace is None:
        return None
    temps = [
        trace.samples[c.key][-1][1] for c in trace.channels if c.kind == "temperature" and trace.samples.get(c.key)
    ]
    return max(temps) if temps else None
