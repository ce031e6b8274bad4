"""Deterministic fake collector for tests: reports how often it was started and stopped."""

from __future__ import annotations

from edgebench.records import JSONValue


class FakeCollector:
    name = "fake"

    def __init__(self) -> None:
        self.starts = 0
        self.stops = 0

    def start(self) -> None:
        self.starts += 1

    def stop(self) -> dict[str, JSONValue]:
        self.stops += 1
        return {"fake_windows": self.stops}
