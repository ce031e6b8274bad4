"""Energy, power, temperature and throttling from real sensors — measured, or absent with the reason.

Modules: ``source`` (channels, the Source base every sensor collector extends), ``select`` (which
sources a run uses), ``sidecar`` (the sampler process), ``run`` (the worker-side hook), ``integrate``
(energy over an interval and its uncertainty), ``build`` (the record's Energy block, timeline),
``throttle`` (evidence and advice), ``combine`` (across processes; GOPS/W), ``render`` (text).
See docs/energy.md.
"""
