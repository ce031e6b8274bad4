from __future__ import annotations

import pytest

from edgebench import registry
from edgebench.backends.fake import FakeBackend
from edgebench.errors import BackendUnavailable, PluginError, UsageError
from edgebench.protocols import Backend, Collector, Store


@pytest.fixture(autouse=True)
def _fresh_registry():  # type: ignore[no-untyped-def]
    # load() caches plugins; tests that fake entry points must not see (or leave) cached ones
    registry.load.cache_clear()
    yield
    registry.load.cache_clear()


def test_builtins_are_entry_points() -> None:
    assert registry.names("edgebench.backends") == ["litert", "onnxruntime", "openvino", "torch", "fake"]
    assert "sqlite" in registry.names("edgebench.stores")
    assert {"memory", "cpu", "fake"} <= set(registry.names("edgebench.collectors"))
    assert registry.load("edgebench.backends", "fake") is FakeBackend


def test_every_builtin_honours_its_protocol() -> None:
    from edgebench.collectors.fake import FakeCollector
    from edgebench.stores import SQLiteStore

    assert isinstance(FakeBackend(), Backend)
    assert isinstance(FakeCollector(), Collector)
    assert issubclass(SQLiteStore, Store)
    for group in registry.GROUPS:
        for name in registry.names(group):
            registry.load(group, name)  # contract check passes for all built-ins


def test_unknown_and_not_installed_plugins_have_friendly_errors() -> None:
    with pytest.raises(UsageError, match="unknown backend 'nope'") as err:
        registry.load("edgebench.backends", "nope")
    assert "onnxruntime" in (err.value.hint or "")
    with pytest.raises(BackendUnavailable, match="TensorRT backend is not part of this edgebench version") as err2:
        registry.load("edgebench.backends", "tensorrt")
    assert "onnxruntime" in (err2.value.hint or "")


def test_contract_violations_name_the_plugin_and_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        name = "broken"

    class EP:
        name = "broken"

        def load(self) -> type:
            return Broken

    monkeypatch.setattr(registry, "_entry_points", lambda group: {"broken": EP()})
    with pytest.raises(
        PluginError, match=r"plugin 'broken' in edgebench.backends breaks its contract: missing method load\(\)"
    ):
        registry.load("edgebench.backends", "broken")


def test_a_registered_plugin_whose_runtime_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    class EP:
        name = "openvino"

        def load(self) -> type:
            raise ModuleNotFoundError("No module named 'openvino'", name="openvino")

    monkeypatch.setattr(registry, "_entry_points", lambda group: {"openvino": EP()})
    with pytest.raises(BackendUnavailable, match="cannot be imported") as err:
        registry.load("edgebench.backends", "openvino")
    assert "'openvino'" in (err.value.hint or "") and "pip install" in (err.value.hint or "")
