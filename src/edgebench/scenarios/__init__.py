"""Scenarios decide *when* queries are issued (MLPerf LoadGen's split); entry-point group
``edgebench.scenarios``. Built-in: ``single_stream`` (next query after the previous answer) and
``fake`` (a deterministic issuer for tests). See docs/architecture.md for the planned LoadGen,
concurrent and profiling scenarios' signatures."""
