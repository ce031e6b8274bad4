"""One exception tree for edgebench.

::

    EdgebenchError                  exit 1   anything edgebench raises on purpose
    ├── UsageError                  exit 2   bad option values, bad --shape, non-positive durations
    ├── ModelError                  exit 3   missing/empty/corrupt model file, unknown zoo name
    │   └── ShapeError              exit 3   unresolved dynamic dims, absurd input sizes
    ├── BackendError                exit 4   runtime failed to load or run a model
    │   └── BackendUnavailable      exit 4   runtime or execution provider not installed
    ├── PluginError                 exit 5   an entry point is missing or breaks its contract
    ├── MeasurementError            exit 6   the measured child crashed or produced nothing
    ├── StoreError                  exit 7   results database unreadable / record not found
    └── SchemaError                 exit 7   a record with an unknown schema version

Runtime exceptions are translated at the backend boundary (``raise BackendError(...) from exc``).
Only the CLI turns these into ``Error: <message>`` plus a hint and ``sys.exit(exit_code)``.
"""

from __future__ import annotations


class EdgebenchError(Exception):
    """Base class; ``hint`` tells the user what to do next."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(EdgebenchError):
    exit_code = 2


class ModelError(EdgebenchError):
    exit_code = 3


class ShapeError(ModelError):
    exit_code = 3


class BackendError(EdgebenchError):
    exit_code = 4


class BackendUnavailable(BackendError):
    exit_code = 4


class PluginError(EdgebenchError):
    exit_code = 5


class MeasurementError(EdgebenchError):
    exit_code = 6


class StoreError(EdgebenchError):
    exit_code = 7


class SchemaError(StoreError):
    exit_code = 7
