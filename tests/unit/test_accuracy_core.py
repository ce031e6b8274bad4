"""edgebench.accuracy building blocks: Wilson CI, output agreement, labels, presets, samples, representative data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgebench.accuracy import agreement, builtin_samples
from edgebench.accuracy.labels import Labels, imagenet, load_labels, offset_for
from edgebench.accuracy.metrics import Z95, load_metric, run_metric, wilson
from edgebench.accuracy.preprocess import PRESETS, apply, get_preset, to_input
from edgebench.errors import UsageError
from edgebench.protocols import IOSpec

DATA = Path(__file__).resolve().parents[1] / "data"


# --- Wilson ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n"), [(0, 1), (7, 7), (6, 7), (1, 10), (50, 100), (999, 1000)])
def test_wilson_bounds_solve_the_score_equation(k: int, n: int) -> None:
    """Each interior bound p satisfies |p̂ − p| = z·sqrt(p(1−p)/n), the definition of Wilson's interval."""
    lo, hi = wilson(k, n)
    p_hat = k / n
    assert 0.0 <= lo <= p_hat <= hi <= 1.0
    for bound in (lo, hi):
        if 0.0 < bound < 1.0:
            assert abs(p_hat - bound) == pytest.approx(Z95 * math.sqrt(bound * (1 - bound) / n), rel=1e-9)


def test_wilson_all_right_is_not_a_point_and_narrows_with_n() -> None:
    lo7, hi7 = wilson(7, 7)
    lo700, _ = wilson(700, 700)
    assert hi7 == 1.0 and 0.6 < lo7 < 0.7  # 7/7 still leaves room down to ~65 %
    assert lo700 > 0.99
    with pytest.raises(ValueError):
        wilson(3, 2)


# --- output agreement -----------------------------------------------------------------------------


def test_agreement_of_identical_outputs_is_perfect() -> None:
    ref = np.random.default_rng(0).normal(size=(20, 50)) * 4
    a = agreement(ref, ref.copy())
    assert (a.top1_agreement, a.top5_overlap, a.cosine, a.max_abs, a.mean_abs) == (1.0, 1.0, pytest.approx(1.0), 0, 0)
    assert a.kl == pytest.approx(0.0, abs=1e-12) and a.samples == 20


def test_agreement_counts_top1_and_top5_exactly() -> None:
    ref = np.tile(np.arange(10, dtype=np.float64), (4, 1))  # top-5 = {9,8,7,6,5}, top-1 = 9
    other = ref.copy()
    other[0, [9, 0]] = other[0, [0, 9]]  # row 0: top-1 moves to 8, top-5 loses 9 and gains nothing new → 4/5
    other[1] = other[1][::-1]  # row 1: top-5 = {0..4}: no overlap
    a = agreement(ref, other)
    assert a.top1_agreement == pytest.approx(2 / 4)
    assert a.top5_overlap == pytest.approx((4 / 5 + 0 + 1 + 1) / 4)
    assert a.max_abs == 9.0


def test_agreement_splits_on_reference_confidence() -> None:
    confident = np.zeros((3, 5))
    confident[:, 2] = 10.0  # softmax top-1 ≈ 0.9998
    flat = np.zeros((2, 5))
    flat[:, 0] = 0.1  # softmax top-1 ≈ 0.22: not confident
    ref = np.vstack([confident, flat])
    other = ref.copy()
    other[3:, 1] = 1.0  # the flat rows flip their argmax; confident ones agree
    a = agreement(ref, other)
    assert a.top1_agreement == pytest.approx(3 / 5)
    assert a.confident is not None and a.confident.samples == 3 and a.confident.top1_agreement == 1.0
    assert "0.5" in a.confident_rule
    assert agreement(flat, flat).confident is None


def test_agreement_kl_matches_softmax_definition_and_probabilities_pass_through() -> None:
    ref, other = np.array([[2.0, 0.0, -1.0]]), np.array([[0.0, 1.5, 0.0]])  # logits (not rows summing to 1)
    p = np.exp(ref) / np.exp(ref).sum()
    q = np.exp(other) / np.exp(other).sum()
    assert agreement(ref, other).kl == pytest.approx(float(np.sum(p * np.log(p / q))))
    # already probabilities (rows summing to 1): not softmaxed again
    assert agreement(p, q).kl == pytest.approx(float(np.sum(p * np.log(p / q))))


def test_agreement_refuses_mismatched_or_non_finite_outputs() -> None:
    with pytest.raises(UsageError, match="one shape"):
        agreement(np.zeros((2, 10)), np.zeros((2, 11)))
    with pytest.raises(UsageError, match="NaN"):
        agreement(np.array([[np.nan, 1.0]]), np.array([[0.0, 1.0]]))


def test_record_comparison_agreement_still_works_and_gains_top5_and_kl() -> None:
    from edgebench.engine.agreement import _compare

    a = np.random.default_rng(1).normal(size=(1, 100))
    row = _compare(a, a + 0.01)
    assert row.top1 == 1.0 and row.cosine == pytest.approx(1.0, abs=1e-3) and row.max_abs_diff == pytest.approx(0.01)
    assert row.top5_overlap == 1.0 and row.kl is not None and row.kl < 1e-3


# --- labels ---------------------------------------------------------------------------------------


def test_tf_slim_labels_are_detected_and_shift_onto_1000_class_models() -> None:
    slim = load_labels(DATA / "imagenet_labels.txt")
    assert slim.background and len(slim.names) == 1001 and slim.classes == 1000
    assert offset_for(slim, 1001) == 0 and offset_for(slim, 1000) == -1
    assert slim.as_1000().names == imagenet().names  # same order once background is dropped
    assert offset_for(imagenet(), 1001) == 1 and offset_for(imagenet(), 1000) == 0
    with pytest.raises(UsageError, match=r"1000 output classes but the labels .* have 1003"):
        offset_for(Labels("x", ("a",) * 1003), 1000)
    with pytest.raises(UsageError, match="has 10 output classes"):
        offset_for(imagenet(), 10)


def test_labels_by_synset_and_name(tmp_path: Path) -> None:
    path = tmp_path / "synsets.txt"
    path.write_text("n01440764 tench, Tinca tinca\nn01443537 goldfish, Carassius auratus\n")
    labels = load_labels(path)
    assert labels.index_of("n01443537") == 1 and labels.index_of("Tench") == 0
    assert labels.index_of("goldfish, Carassius auratus") == 1 and labels.index_of("shark") is None
    assert imagenet().index_of("tabby") == 281 and imagenet().index_of("daisy") == 985


# --- preprocessing --------------------------------------------------------------------------------


def test_presets_scale_as_documented() -> None:
    img = Image.new("RGB", (40, 30), (255, 127, 0))
    tf = apply(img, get_preset("tf"), 16)
    assert tf.shape == (3, 16, 16) and tf.dtype == np.float32
    assert np.allclose(tf[:, 5, 5], [(255 - 127) / 128, 0.0, -127 / 128])
    torch = apply(img, get_preset("torch"), 16)
    assert np.allclose(
        torch[:, 0, 0], [(1 - 0.485) / 0.229, (127 / 255 - 0.456) / 0.224, (0 - 0.406) / 0.225], atol=1e-5
    )
    assert np.allclose(apply(img, get_preset("unit"), 16)[:, 0, 0], [1.0, 127 / 255, 0.0])
    nhwc = apply(img, get_preset("raw-uint8"), 16, "NHWC")
    assert nhwc.shape == (16, 16, 3) and np.allclose(nhwc[0, 0], [255, 127, 0])
    with pytest.raises(UsageError, match="unknown --preprocess 'caffe'"):
        get_preset("caffe")
    assert set(PRESETS) >= {"tf", "torch", "unit", "raw-uint8"}


def test_resize_short_side_then_centre_crop() -> None:
    """A 2:1 image with a left and a right half: the centre crop takes the middle of the resized width."""
    pixels = np.zeros((100, 200, 3), np.uint8)
    pixels[:, :100] = 255  # left half white
    x = apply(Image.fromarray(pixels), get_preset("unit"), 32)  # short side → round(32/0.875) = 37, width 74
    assert x.shape == (3, 32, 32)
    assert x[0, 16, 0] == pytest.approx(1.0) and x[0, 16, 31] == pytest.approx(0.0)  # both halves visible
    assert np.all(x[0, :, :14] > 0.99) and np.all(x[0, :, 18:] < 0.01)


def test_quantized_inputs_take_quantized_values() -> None:
    x = np.array([[-1.0, 0.0, 0.5]], np.float32)
    q = to_input(x, IOSpec("in", "uint8", (1, 3), scale=1 / 128, zero_point=128), "tf")
    assert q.dtype == np.uint8 and q.tolist() == [[0, 128, 192]]
    raw = to_input(np.array([[0.0, 255.0]], np.float32), IOSpec("in", "int8", (1, 2)), "raw")
    assert raw.dtype == np.int8 and raw.tolist() == [[-128, 127]]
    with pytest.raises(UsageError, match="without quantization parameters"):
        to_input(x, IOSpec("in", "uint8", (1, 3)), "tf")


# --- built-in samples, representative data, metric hook -------------------------------------------


def test_builtin_samples_are_the_seven_real_photos() -> None:
    x, samples = builtin_samples()
    assert x.shape == (7, 3, 224, 224) and x.dtype == np.float32
    assert [s.name for s in samples] == [
        "chelsea",
        "coffee",
        "rocket",
        "stereo_motorcycle",
        "china",
        "flower",
        "grace_hopper",
    ]
    names = imagenet().names
    assert {names[i].split(",")[0] for i in samples[0].accepted} >= {"tabby", "tiger cat", "Egyptian cat"}
    assert names[min(samples[5].accepted)] == "daisy"
    assert -1.0 <= x.min() < -0.9 and 0.9 < x.max() <= 1.0  # TF preset range, real photos use it
    nhwc, _ = builtin_samples("tf", 96, "NHWC")
    small, _ = builtin_samples("tf", 96)
    assert np.array_equal(nhwc, small.transpose(0, 2, 3, 1))
    with pytest.raises(UsageError):
        builtin_samples(layout="CHW")  # type: ignore[arg-type]


def test_representative_set_is_seeded_and_disjoint_by_construction() -> None:
    from edgebench.accuracy.representative import default_sources, representative_set, split_sources

    sources = default_sources()
    calib, evaluation = split_sources(sources, "calibration"), split_sources(sources, "evaluation")
    assert calib and evaluation and not set(calib) & set(evaluation) and set(calib) | set(evaluation) == set(sources)
    x, made = representative_set(6, "calibration", size=64)
    again, _ = representative_set(6, "calibration", size=64)
    other, _ = representative_set(6, "calibration", size=64, seed=1)
    ev, ev_made = representative_set(6, "evaluation", size=64)
    assert x.shape == (6, 3, 64, 64) and np.array_equal(x, again) and not np.array_equal(x, other)
    assert {m.source for m in made} <= {p.name for p in calib}
    assert {m.source for m in ev_made} <= {p.name for p in evaluation}
    assert len({(m.source, m.box, m.flip) for m in made}) == 6  # each sample its own augmentation
    assert not np.array_equal(x, ev)


def test_metric_hook_loads_and_validates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mymetrics.py").write_text(
        "import numpy as np\n"
        "def mean_target(outputs, targets):\n"
        "    return {'mean_target': np.float64(targets.mean()), 'n': len(outputs)}\n"
        "def bad(outputs, targets):\n    return [1]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    hook = load_metric("mymetrics:mean_target")
    assert run_metric(hook, "m", np.zeros((4, 2)), np.array([0, 1, 1, 2])) == {"mean_target": 1.0, "n": 4}
    with pytest.raises(UsageError, match="not a dict"):
        run_metric(load_metric("mymetrics:bad"), "mymetrics:bad", np.zeros((1, 2)), np.zeros(1))
    with pytest.raises(UsageError, match="module:function"):
        load_metric("mymetrics")
    with pytest.raises(UsageError, match="no function"):
        load_metric("mymetrics:nope")


# --- data sources -------------------------------------------------------------------------------


def test_list_file_labels_by_index_name_or_synset_and_content_hash(tmp_path: Path) -> None:
    from edgebench.accuracy.datasets import dataset_sha256, open_dataset

    for name in ("a.png", "b.png", "c.png"):
        Image.new("RGB", (4, 4), (1, 2, 3)).save(tmp_path / name)
    listing = tmp_path / "val.txt"
    listing.write_text("# file label\na.png tabby, tabby cat\nb.png,3\nc.png\t985\n\n")
    data = open_dataset(str(listing), imagenet())
    assert [(i.name, set(i.accepted)) for i in data.items] == [("a.png", {281}), ("b.png", {3}), ("c.png", {985})]
    before = dataset_sha256(data)
    Image.new("RGB", (4, 4), (9, 9, 9)).save(tmp_path / "c.png")
    assert dataset_sha256(open_dataset(str(listing), imagenet())) != before  # the bytes count, not just names
    listing.write_text("a.png shark-ish\n")
    with pytest.raises(UsageError, match=r"val.txt:1: label 'shark-ish' is neither an index nor a class"):
        open_dataset(str(listing), imagenet())
    assert len(open_dataset("digits:test").items) == 1797 - int(1797 * 0.8)
    assert open_dataset("fake:3").items[2].accepted == frozenset({2})
