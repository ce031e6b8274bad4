"""The tight loop under its own name: ``--scenario loop`` (alias ``none``), the default.

``single_stream`` now names LoadGen's SingleStream; the loop itself lives on, unchanged, in
scenarios/single_stream.py. Records stored before the rename say ``single_stream`` for the loop;
records.py reads them as ``loop`` (see docs/scenarios.md)."""

from __future__ import annotations

from edgebench.scenarios.single_stream import SingleStream


class Loop(SingleStream):
    name = "loop"
