"""The measured window: brackets collectors and stamps absolute times (so power traces align)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from edgebench.errors import PluginError
from edgebench.protocols import Clock, Collector
from edgebench.records import JSONValue, Window


class CollectorWindow:
    """Opened once and closed once by the scenario; collectors start innermost-last, stop innermost-first."""

    def __init__(self, clock: Clock, collectors: Sequence[Collector]) -> None:
        self._clock = clock
        self._collectors = list(collectors)
        self._start: tuple[int, int] | None = None
        self.window: Window | None = None
        self.readings: dict[str, dict[str, JSONValue]] = {}

    def open(self) -> None:
        if self._start is not None:
            raise PluginError("the scenario opened the measured window twice", hint="open it once around the run")
        for collector in self._collectors:
            collector.start()
        self._start = (time.time_ns(), self._clock())

    def close(self) -> Window:
        if self._start is None or self.window is not None:
            raise PluginError("the scenario closed a window it had not opened", hint="open() then close() once")
        end = (time.time_ns(), self._clock())
        for collector in reversed(self._collectors):  # the innermost saw the tightest window: stop it first
            self.readings[collector.name] = collector.stop()
        self.window = Window(self._start[0], end[0], self._start[1], end[1])
        return self.window
