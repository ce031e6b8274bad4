"""Scenarios decide *when* queries are issued (MLPerf LoadGen's split); entry-point group
``edgebench.scenarios``. Built-in: ``loop`` (the tight loop, ``--scenario none``, the default;
code in single_stream.py), the MLPerf LoadGen scenarios ``single_stream``, ``multi_stream``,
``server``, ``offline`` (loadgen*.py, docs/scenarios.md) and ``fake`` (a deterministic issuer for tests)."""
