from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edgebench.engine import inputs
from edgebench.errors import ShapeError, UsageError
from edgebench.protocols import IOSpec

IMG = IOSpec("img", "float32", ("batch", 3, 224, 224))
IDS = IOSpec("ids", "int64", (1, "seq"))


def test_batch_fills_dynamic_leading_dim() -> None:
    assert inputs.resolve_shapes([IMG], {}, 4) == {"img": (4, 3, 224, 224)}
    assert inputs.resolve_shapes([IMG], {}, None) == {"img": (1, 3, 224, 224)}


def test_shape_option_wins_and_is_checked() -> None:
    assert inputs.resolve_shapes([IDS], {"ids": (1, 128)}, None) == {"ids": (1, 128)}
    with pytest.raises(ShapeError, match="rank"):
        inputs.resolve_shapes([IDS], {"ids": (1, 2, 3)}, None)
    with pytest.raises(ShapeError, match="fixed at 1"):
        inputs.resolve_shapes([IDS], {"ids": (2, 128)}, None)
    with pytest.raises(UsageError, match="unknown input nope"):
        inputs.resolve_shapes([IDS], {"nope": (1,)}, None)


def test_shape_and_batch_must_agree() -> None:
    assert inputs.resolve_shapes([IMG], {"img": (4, 3, 224, 224)}, 4) == {"img": (4, 3, 224, 224)}
    with pytest.raises(ShapeError, match="contradicts --batch 2"):
        inputs.resolve_shapes([IMG], {"img": (4, 3, 224, 224)}, 2)


def test_unresolved_dynamic_dim_is_named() -> None:
    with pytest.raises(ShapeError, match=r"'ids'.*'seq' at axis 1") as err:
        inputs.resolve_shapes([IDS], {}, None)
    assert err.value.hint == "give it with --shape ids=1xN"


def test_fixed_batch_conflict() -> None:
    with pytest.raises(ShapeError, match="fixed batch of 1"):
        inputs.resolve_shapes([IDS], {}, 8)


def test_absurd_sizes_are_refused_before_allocation() -> None:
    shapes = {"img": (100_000, 3, 224, 224)}
    with pytest.raises(ShapeError, match="MiB"):
        inputs.check_size([IMG], shapes, inputs.DEFAULT_MAX_INPUT_BYTES)
    assert inputs.check_size([IMG], {"img": (1, 3, 224, 224)}, 10**9) == 3 * 224 * 224 * 4


def test_generated_data_is_seeded_and_dtype_correct() -> None:
    specs = [
        IOSpec("f", "float16", (2, 3)),
        IOSpec("u", "uint8", (50,)),
        IOSpec("i", "int8", (50,)),
        IOSpec("b", "bool", (4,)),
    ]
    shapes = {s.name: tuple(int(d) for d in s.shape) for s in specs}  # type: ignore[arg-type]
    a, b = inputs.generate(specs, shapes, 7), inputs.generate(specs, shapes, 7)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert a["f"].dtype == np.float16 and a["f"].min() >= -1 and a["f"].max() < 1
    assert a["u"].dtype == np.uint8 and a["u"].max() < 100
    assert a["i"].dtype == np.int8 and a["i"].min() >= 0
    assert a["b"].dtype == np.bool_
    assert not np.array_equal(inputs.generate(specs, shapes, 8)["f"], a["f"])


def test_real_inputs_from_npy_and_npz(tmp_path: Path) -> None:
    np.save(tmp_path / "one.npy", np.ones((1, 3, 224, 224)))
    feeds, notes = inputs.load_file(tmp_path / "one.npy", [IMG])
    assert feeds["img"].dtype == np.float32 and notes == ["one.npy: img cast from float64 to float32"]
    np.savez(tmp_path / "many.npz", ids=np.zeros((1, 8), dtype=np.int32), extra=np.zeros(2))
    feeds, notes = inputs.load_file(tmp_path / "many.npz", [IDS])
    assert feeds["ids"].dtype == np.int64
    assert notes == [
        "many.npz: key 'extra' is not a model input and was ignored",
        "many.npz: ids cast from int32 to int64",
    ]
    np.savez(tmp_path / "lossy.npz", ids=np.full((1, 8), 0.5))
    with pytest.raises(UsageError, match="would change its values"):
        inputs.load_file(tmp_path / "lossy.npz", [IDS])
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(UsageError, match="cannot read inputs file"):
        inputs.load_file(tmp_path / "empty.npz", [IDS])
    with pytest.raises(UsageError, match="lacks input"):
        inputs.load_file(tmp_path / "many.npz", [IMG])
    with pytest.raises(UsageError, match="does not exist"):
        inputs.load_file(tmp_path / "missing.npz", [IMG])
    (tmp_path / "bad.npy").write_text("garbage")
    with pytest.raises(UsageError, match="cannot read"):
        inputs.load_file(tmp_path / "bad.npy", [IMG])
