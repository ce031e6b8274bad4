"""What one report covers: the selected records, the platform record of each host, and how they were chosen.

Every reporter (Markdown, HTML) renders a :class:`ReportInput`; only :func:`gather` touches the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edgebench.errors import StoreError, UsageError
from edgebench.records import RunRecord, utc_now
from edgebench.reporters.select import Filter, describe, select

if TYPE_CHECKING:
    from edgebench.platform.report import PlatformReport
    from edgebench.stores import ResultsStore


@dataclass(frozen=True)
class ReportInput:
    records: tuple[RunRecord, ...]  # oldest first
    platforms: Mapping[str, PlatformReport] = field(default_factory=dict)  # by hostname, where one is stored
    selection: str = "all records"
    source: str = ""  # the database it came from
    generated_at: str = field(default_factory=utc_now)
    notes: tuple[str, ...] = ()  # e.g. records that could not be read

    @property
    def ok(self) -> tuple[RunRecord, ...]:
        return tuple(r for r in self.records if r.status == "ok")

    @property
    def failed(self) -> tuple[RunRecord, ...]:
        return tuple(r for r in self.records if r.status != "ok")


def gather(store: ResultsStore, filters: Sequence[Filter], last: int | None = None) -> ReportInput:
    """Read the store (read-only), apply the selection, attach each host's newest platform record."""
    stored = store.read()
    notes = tuple(f"skipped record {bad.id}: {bad.reason}" for bad in stored.unreadable)
    chosen = select(stored.records, filters, last)
    if not chosen:
        what = describe(filters, last)
        if not stored.records:
            raise StoreError(f"no results in {store.path}", hint="run `edgebench bench` first")
        raise UsageError(f"no records match ({what})", hint="see `edgebench results list`, or loosen --where")
    platforms, platform_notes = _platforms(store, {r.environment.hostname for r in chosen})
    return ReportInput(
        records=tuple(chosen),
        platforms=platforms,
        selection=describe(filters, last),
        source=str(store.path),
        notes=notes + platform_notes,
    )


def _platforms(store: ResultsStore, hosts: set[str]) -> tuple[dict[str, PlatformReport], tuple[str, ...]]:
    from edgebench.errors import EdgebenchError
    from edgebench.platform.report import PlatformReport

    found: dict[str, PlatformReport] = {}
    notes: list[str] = []
    for host in sorted(hosts):
        data: dict[str, Any] | None = store.latest_platform(host)
        if data is None:
            continue
        try:
            found[host] = PlatformReport.from_dict(data)
        except (EdgebenchError, TypeError, KeyError, ValueError) as exc:  # an unreadable one costs its row only
            notes.append(f"platform record of {host} not used: {exc}")
    return found, tuple(notes)
