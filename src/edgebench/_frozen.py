"""An immutable, hashable mapping that pydantic validates from a dict and dumps back to one.

Records and specs are frozen dataclasses (ARCHITECTURE rule 1); a plain ``dict`` field would make
them mutable through the back door and unhashable, so a sweep could not use a RunSpec as a key.
Values are frozen recursively (lists become tuples, dicts become FrozenMaps) so hashing never fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar, get_args

K = TypeVar("K")
V = TypeVar("V")


def freeze(value: Any) -> Any:
    """Deep-freeze JSON-like data: dict → FrozenMap, list/tuple → tuple."""
    if isinstance(value, FrozenMap):
        return value
    if isinstance(value, Mapping):
        return FrozenMap({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """The inverse of :func:`freeze` for JSON output: FrozenMap → dict, tuple → list."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [thaw(v) for v in value]
    return value


class FrozenMap(Mapping[K, V], Generic[K, V]):
    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[K, V] | None = None) -> None:
        self._data: dict[K, V] = {k: freeze(v) for k, v in (data or {}).items()}
        self._hash: int | None = None

    def __getitem__(self, key: K) -> V:
        return self._data[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(tuple(sorted(((repr(k), v) for k, v in self._data.items()), key=lambda kv: kv[0])))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        args = get_args(source)
        key, value = args if len(args) == 2 else (str, Any)
        dict_schema = handler.generate_schema(dict[key, value])  # type: ignore[valid-type]
        return core_schema.no_info_after_validator_function(
            cls,
            dict_schema,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda m: thaw(m), return_schema=core_schema.any_schema()
            ),
        )


EMPTY: FrozenMap[Any, Any] = FrozenMap()
