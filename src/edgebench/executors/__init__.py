"""Executors decide *where* a job runs (entry-point group ``edgebench.executors``): ``inline``
(this process), ``local`` (a fresh process per job, the default); ``ssh`` and ``ray`` are one module
each later. ``submit(job)`` returns a record — ok or failed — and raises only user errors."""

from __future__ import annotations

from edgebench import errors

# Errors about the user's input: raised to the caller (nothing to store), wherever they were found.
USER_ERRORS: tuple[type[errors.EdgebenchError], ...] = (
    errors.UsageError,
    errors.ModelError,
    errors.BackendUnavailable,
    errors.PluginError,
)
