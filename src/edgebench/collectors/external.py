"""An external power meter (USB/bench meter): a user command that prints ``timestamp,watts`` lines.

The timestamp is Unix seconds on this host's clock (values below 10⁹ are read as seconds since the
command started, for meters that count from zero). Lines that do not parse (headers, log text) are
counted and skipped. The command runs in its own process, started by the sampler and killed with it.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from edgebench.energy.source import Channel, SensorUnavailable, Source, die_with_parent

KEY = "external:meter"
_RELATIVE_BELOW_S = 1e9


def parse_line(line: str, started_ns: int) -> tuple[int, float] | None:
    """``"1733130000.25,4.81"`` → (unix ns, watts); None for anything else."""
    parts = line.replace(";", ",").replace("\t", ",").split(",")
    if len(parts) < 2:
        return None
    try:
        stamp, watts = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (watts == watts and abs(watts) < 1e6 and stamp == stamp and stamp >= 0):
        return None
    ns = started_ns + int(stamp * 1e9) if stamp < _RELATIVE_BELOW_S else int(stamp * 1e9)
    return ns, watts


class ExternalCollector(Source):
    name = "external"

    def __init__(self, root: Path = Path("/"), *, command: str | None = None, **kwargs: Any) -> None:
        super().__init__(root, **kwargs)
        self.command = command
        self._proc: subprocess.Popen[str] | None = None
        self._samples: list[tuple[int, float]] = []
        self._lock = threading.Lock()
        self.bad_lines = 0

    def discover(self) -> list[Channel]:
        if not self.command:
            raise SensorUnavailable(
                "no external meter command", "pass --power-cmd 'CMD' printing timestamp,watts lines"
            )
        try:
            argv = shlex.split(self.command)
            self._started_ns = time.time_ns()
            self._proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
                bufsize=1,
                preexec_fn=die_with_parent,
            )
        except (OSError, ValueError) as exc:
            raise SensorUnavailable(f"--power-cmd could not start: {exc}", "check the command and its PATH") from exc
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        return [Channel(KEY, "external", "meter", "power", "total", primary=True, note=f"--power-cmd {self.command}")]

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            parsed = parse_line(line.strip(), self._started_ns)
            with self._lock:
                if parsed is None:
                    self.bad_lines += bool(line.strip())
                else:
                    self._samples.append(parsed)

    def drain(self) -> list[tuple[int, float]]:
        """Samples that arrived since the last call, each with the meter's own timestamp."""
        with self._lock:
            out, self._samples = self._samples, []
        return out

    def finished(self) -> str | None:
        """Why the meter will send nothing more (its command exited), or None while it runs."""
        if self._proc is None or self._proc.poll() is None or self._pump_thread.is_alive():
            return None  # still running, or its last lines are still being read
        tail = self.stderr_tail()
        garbage = f", {self.bad_lines} unreadable lines" if self.bad_lines else ""
        return f"--power-cmd exited with code {self._proc.returncode}{garbage}" + (f": {tail}" if tail else "")

    def read(self) -> dict[str, float]:
        return {}  # a stream: see drain()

    def stderr_tail(self) -> str:
        if self._proc is None or self._proc.poll() is None or self._proc.stderr is None:
            return ""
        return self._proc.stderr.read()[-300:].strip()

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                self._proc.kill()
