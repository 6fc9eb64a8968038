"""The training script end to end on a tiny tile subset: worker processes, targets made in the
main process, the time schedule, the checkpoint's records and the .npz weights."""

import gzip
import json
import os

import numpy as np
import pytest
import torch

import make_subset
from conftest import missing
import train
from sopseg.data import CocoInstances, InstanceSampler, SamplerConfig, add_targets

TRAIN = make_subset.TRAIN


def needs_data() -> None:
    if not os.path.exists(os.path.join(TRAIN, "annotations.json.gz")):
        missing(f"missing {TRAIN}")


@pytest.fixture(scope="module")
def subset(tmp_path_factory) -> str:
    needs_data()
    out = str(tmp_path_factory.mktemp("subset"))
    make_subset.main(["--out", out, "--budget", "400000"])
    return out


def test_subset_keeps_what_the_reader_needs(subset: str) -> None:
    with gzip.open(os.path.join(subset, "annotations.json.gz"), "rt") as f:
        coco = json.load(f)
    files = sorted(os.listdir(os.path.join(subset, "images")))
    assert files == sorted(im["file_name"] for im in coco["images"])
    size = sum(os.path.getsize(os.path.join(subset, "images", n)) for n in files)
    assert 0 < size <= 400000
    ids = {im["id"] for im in coco["images"]}
    assert coco["annotations"] and all(a["image_id"] in ids for a in coco["annotations"])
    for a in coco["annotations"]:
        for seg in a["segmentation"]:
            pts = list(zip(seg[0::2], seg[1::2]))
            assert all(p != q for p, q in zip(pts, pts[1:] + pts[:1]))
    # The subset favours rare classes: helicopters are 0.4 % of the split's instances.
    assert any(a["category_id"] == 10 for a in coco["annotations"])


def test_subset_for_the_main_graphs_holds_more_large_objects(tmp_path) -> None:
    # --min-side counts only the larger objects when tiles are ranked: at the same budget the
    # subset holds more of them than the default one, and still writes every instance of a tile.
    needs_data()
    def large(out: str) -> tuple[int, int]:
        with gzip.open(os.path.join(out, "annotations.json.gz"), "rt") as f:
            anns = json.load(f)["annotations"]
        return sum(make_subset.long_side(a) > 64 for a in anns), len(anns)
    default, main = str(tmp_path / "default"), str(tmp_path / "main")
    make_subset.main(["--out", default, "--budget", "600000"])
    make_subset.main(
        ["--out", main, "--budget", "600000", "--min-side", "64", "--rarity-power", "0.5"]
    )
    (big_default, _), (big_main, n_main) = large(default), large(main)
    assert big_main > big_default
    assert n_main > big_main  # the small objects of the chosen tiles are kept


def test_subset_of_the_union_has_all_15_classes(tmp_path) -> None:
    needs_data()
    if not os.path.exists(os.path.join(TRAIN, "annotations_extra.json.gz")):
        missing(f"missing {TRAIN}/annotations_extra.json.gz")
    out = str(tmp_path / "sub15")
    make_subset.main(
        ["--out", out, "--budget", "3000000",
         "--annotations", "annotations.json.gz,annotations_extra.json.gz"]
    )
    with gzip.open(os.path.join(out, "annotations.json.gz"), "rt") as f:
        coco = json.load(f)
    assert len(coco["categories"]) == 15
    ids = [a["id"] for a in coco["annotations"]]
    assert len(ids) == len(set(ids))
    # rare classes of the added tiles are favoured: more than the 7 first classes are present
    assert len({a["category_id"] for a in coco["annotations"]}) > 7
    assert len(CocoInstances(out, preload=False).instances) > 0


def test_deferred_targets_equal_the_batch_targets(subset: str) -> None:
    data = CocoInstances(subset)
    a = InstanceSampler(data, SamplerConfig(), seed=3).batch(batch=3)
    b = add_targets(InstanceSampler(data, SamplerConfig(), seed=3).batch(batch=3, targets=False))
    assert sorted(a) == sorted(b)
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_lr_by_time() -> None:
    assert train.lr_by_time(10.0, 10.0, 70.0, 1e-3, 0.02) == pytest.approx(1e-3)
    assert train.lr_by_time(40.0, 10.0, 70.0, 1e-3, 0.02) == pytest.approx(0.51e-3)
    assert train.lr_by_time(70.0, 10.0, 70.0, 1e-3, 0.02) == pytest.approx(0.02e-3)
    assert train.lr_by_time(99.0, 10.0, 70.0, 1e-3, 0.02) == pytest.approx(0.02e-3)


def test_a_worker_run_writes_records_and_weights(subset: str, tmp_path) -> None:
    ckpt = str(tmp_path / "ck.pt")
    weights = str(tmp_path / "w.npz")
    args = ["--train-root", subset, "--no-val", "--workers", "1", "--batch", "2"]
    args += ["--max-steps", "2", "--time-schedule", "--max-minutes", "5", "--ckpt", ckpt]
    args += ["--runs", str(tmp_path / "runs"), "--weights-out", weights, "--noise-prob", "1"]
    train.main(args + ["--ram-context", "1.3"])
    ck = torch.load(ckpt, map_location="cpu")
    assert ck["run"]["ram_context"] == 1.3
    assert ck["step"] == 2 and ck["samples_seen"] == 4
    assert ck["scheduler"]["kind"] == "warmup-cosine-by-time" and ck["scheduler"]["minutes"] == 5
    assert ck["run"]["noise"]["prob"] == 1.0 and ck["run"]["device"] == "cpu"
    w = np.load(weights)
    assert sorted(w.files) == sorted(ck["model"])
    for k, v in ck["model"].items():
        assert np.array_equal(w[k], v.numpy()), k


def test_input_size_is_recorded_and_inherited(subset: str, tmp_path) -> None:
    """`--input-size 192` trains on 192 crops and the checkpoint says so; a run started from
    it without the flag keeps 192; one from a checkpoint that does not record it gets 256."""
    first = str(tmp_path / "a.pt")
    common = ["--train-root", subset, "--no-val", "--batch", "2", "--max-steps", "1"]
    train.main(common + ["--input-size", "192", "--ckpt", first, "--runs", str(tmp_path / "r1")])
    ck = torch.load(first, map_location="cpu")
    assert ck["input_size"] == 192 and ck["run"]["input_size"] == 192
    second = str(tmp_path / "b.pt")
    train.main(common + ["--init-from", first, "--ckpt", second, "--runs", str(tmp_path / "r2")])
    assert torch.load(second, map_location="cpu")["input_size"] == 192
    del ck["input_size"]
    old = str(tmp_path / "old.pt")
    torch.save(ck, old)
    third = str(tmp_path / "c.pt")
    train.main(common + ["--init-from", old, "--ckpt", third, "--runs", str(tmp_path / "r3")])
    assert torch.load(third, map_location="cpu")["input_size"] == 256


def test_a_time_schedule_is_not_cut_by_total_samples(subset: str, tmp_path) -> None:
    """With --time-schedule the cosine follows the clock; --total-samples (default 45,000)
    stopped such a run before its minutes were up (stretch 9 ended at 72 of 95 minutes)."""
    ckpt = str(tmp_path / "ck.pt")
    args = ["--train-root", subset, "--no-val", "--batch", "2", "--total-samples", "2"]
    args += ["--time-schedule", "--max-minutes", "5", "--max-steps", "3", "--ckpt", ckpt]
    train.main(args + ["--runs", str(tmp_path / "runs")])
    assert torch.load(ckpt, map_location="cpu")["step"] == 3


def test_small_input_batches_come_from_the_objects_the_small_graphs_get(subset: str) -> None:
    """With a small input size, a share of the batches is made at it, only from objects whose
    RAM crop is at most that side (the runtime's routing); the rest at the main size."""
    from sopseg.geometry import hbox_of_points, ram_side

    data = CocoInstances(subset, preload=False)
    cfg = SamplerConfig(train=True, input_size=224, small_input_size=96, small_prob=0.5)
    sampler = InstanceSampler(data, cfg, seed=3)
    sides = {224: 0, 96: 0}
    for _ in range(12):
        b = sampler.batch(batch=3, targets=False)
        n = int(b["image"].shape[-1])
        sides[n] += 1
        assert b["mask"].shape[-1] == n
        if n == 96:
            for k in b["index"].tolist():
                hb = hbox_of_points(data.instances[k].obox.corners())
                assert ram_side(max(hb[2], hb[3])) <= 96
    assert sides[224] > 0 and sides[96] > 0
    # a routing threshold under the small size: only the objects with crops that small
    lim = 64
    narrow = SamplerConfig(
        train=True, input_size=224, small_input_size=96, small_prob=1.0, small_max_crop_side=lim
    )
    s64 = InstanceSampler(data, narrow, seed=3)
    assert 0 < sum(map(len, s64.small_members)) < sum(map(len, sampler.small_members))
    for k in s64.random_indices(24, small=True):
        hb = hbox_of_points(data.instances[k].obox.corners())
        assert ram_side(max(hb[2], hb[3])) <= lim
    # without a small size, nothing changes: every batch at the main size
    plain = InstanceSampler(data, SamplerConfig(train=True, input_size=224), seed=3)
    assert plain.batch(batch=2, targets=False)["image"].shape[-1] == 224


def test_main_batches_can_leave_out_the_crops_the_small_graphs_take(subset: str) -> None:
    """`main_min_crop_side`: the main-size batches draw only objects whose RAM crop is over
    that side (main graphs the runtime sends only the larger crops); the small ones keep theirs."""
    from sopseg.geometry import hbox_of_points, ram_side

    def side(k: int) -> float:
        hb = hbox_of_points(data.instances[k].obox.corners())
        return ram_side(max(hb[2], hb[3]))

    data = CocoInstances(subset, preload=False)
    cfg = SamplerConfig(train=True, input_size=224, small_input_size=96, main_min_crop_side=64)
    sampler = InstanceSampler(data, cfg, seed=3)
    plain = InstanceSampler(data, SamplerConfig(train=True, input_size=224), seed=3)
    assert 0 < sum(map(len, sampler.members)) < sum(map(len, plain.members))
    assert all(side(k) > 64 for k in sampler.random_indices(48))
    assert any(side(k) <= 64 for k in plain.random_indices(48))
    assert all(side(k) <= 96 for k in sampler.random_indices(24, small=True))
    with pytest.raises(ValueError, match="no object has a RAM crop over"):
        InstanceSampler(data, SamplerConfig(train=True, main_min_crop_side=100000), seed=0)


def test_a_run_with_a_small_input_size_records_it(subset: str, tmp_path) -> None:
    ckpt = str(tmp_path / "ck.pt")
    args = ["--train-root", subset, "--no-val", "--batch", "2", "--max-steps", "4"]
    args += ["--input-size", "224", "--small-input-size", "160", "--small-prob", "0.5"]
    args += ["--small-max-crop-side", "96"]
    train.main(args + ["--ckpt", ckpt, "--runs", str(tmp_path / "runs")])
    ck = torch.load(ckpt, map_location="cpu")
    assert ck["input_size"] == 224
    assert ck["run"]["small_input_size"] == 160 and ck["run"]["small_prob"] == 0.5
    assert ck["run"]["small_max_crop_side"] == 96


def test_without_r3_trains_what_the_small_graphs_run_and_leaves_r3_alone(
    subset: str, tmp_path
) -> None:
    """`--without-r3`: the loss is taken on P2 upsampled (what `export.py --small-without-r3`
    ships), so R3 and its IoU head get no gradient and keep their starting weights."""
    start = str(tmp_path / "start.pt")
    base = ["--train-root", subset, "--no-val", "--batch", "2", "--input-size", "224"]
    train.main(base + ["--max-steps", "1", "--ckpt", start, "--runs", str(tmp_path / "r0")])
    ckpt = str(tmp_path / "ck.pt")
    args = base + ["--max-steps", "2", "--init-from", start, "--lr", "1e-2", "--without-r3"]
    train.main(args + ["--ckpt", ckpt, "--runs", str(tmp_path / "r1")])
    s0 = torch.load(start, map_location="cpu")["model"]
    ck = torch.load(ckpt, map_location="cpu")
    assert ck["run"]["without_r3"] is True
    untouched = [k for k in s0 if k.startswith(("refiner.r3.", "refiner.phi3.", "refiner.iou_head."))]
    assert untouched and all(torch.equal(ck["model"][k], s0[k]) for k in untouched)
    assert not torch.equal(ck["model"]["refiner.phi2.weight"], s0["refiner.phi2.weight"])


def test_a_run_with_ema_keeps_the_average_and_ema_py_makes_it_the_model(
    subset: str, tmp_path
) -> None:
    import ema as ema_tool

    start = str(tmp_path / "start.pt")
    base = ["--train-root", subset, "--no-val", "--batch", "2", "--input-size", "224"]
    train.main(base + ["--max-steps", "1", "--ckpt", start, "--runs", str(tmp_path / "r0")])
    ckpt = str(tmp_path / "ck.pt")
    args = base + ["--max-steps", "3", "--ema", "0.5", "--init-from", start, "--lr", "1e-2"]
    train.main(args + ["--ckpt", ckpt, "--runs", str(tmp_path / "r1")])
    s0 = torch.load(start, map_location="cpu")["model"]
    ck = torch.load(ckpt, map_location="cpu")
    assert set(ck["ema"]) == set(ck["model"])
    # decay 0.5 over 3 steps: the average is 1/8 the start and 7/8 the (moving) weights, so it
    # differs from both the start and the last weights on the trained tensors
    k = "mask_decoder.iou_token.weight"
    assert not torch.equal(ck["ema"][k], s0[k]) and not torch.equal(ck["ema"][k], ck["model"][k])
    out = ema_tool.take_ema(ck)
    assert "ema" not in out and out["run"]["weights"] == "ema"
    for name, v in ck["ema"].items():
        assert torch.equal(out["model"][name], v)
    with pytest.raises(ValueError, match="no weight average"):
        ema_tool.take_ema(torch.load(start, map_location="cpu"))


def test_a_bundle_gives_the_small_graphs_their_own_fine_tune(subset: str, tmp_path) -> None:
    """bundle.py puts a small-crops-only run's weights under `small`; export.py writes the
    small graphs from them (recorded in `small_graphs.training`) and the main ones from
    `model`; --extract gives the part back as a checkpoint train.py can start from."""
    import bundle as bundle_tool
    import export as export_mod

    base = ["--train-root", subset, "--no-val", "--batch", "2", "--input-size", "224"]
    base += ["--small-input-size", "160", "--small-max-crop-side", "96", "--lr", "1e-2"]
    main_ck, small_ck = str(tmp_path / "main.pt"), str(tmp_path / "small.pt")
    train.main(base + ["--max-steps", "1", "--ckpt", main_ck, "--runs", str(tmp_path / "r0")])
    args = base + ["--max-steps", "2", "--small-prob", "1.0", "--init-from", main_ck]
    train.main(args + ["--ckpt", small_ck, "--runs", str(tmp_path / "r1")])
    m, s = torch.load(main_ck, map_location="cpu"), torch.load(small_ck, map_location="cpu")
    b = bundle_tool.bundle(m, s, "abc")
    assert b["step"] == m["step"] and b["small"]["step"] == s["step"] == 2
    assert b["small"]["run"]["small_prob"] == 1.0 and b["small"]["source_sha256"] == "abc"
    with pytest.raises(ValueError, match="itself a bundle"):
        bundle_tool.bundle(m, b, "x")
    ex = bundle_tool.extract(b, "small")
    assert all(torch.equal(ex["model"][k], v) for k, v in s["model"].items())
    with pytest.raises(ValueError, match="not a bundle"):
        bundle_tool.extract(m, "small")

    path = str(tmp_path / "bundle.pt")
    train.save_checkpoint(path, b)
    out = str(tmp_path / "model")
    export_mod.main(["--checkpoint", path, "--out", out, "--small-max-crop-side", "96"])
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    rec = manifest["small_graphs"]["training"]
    assert rec["part"] == "small" and rec["step"] == 2 and rec["checkpoint_sha256"]
    assert manifest["training"]["step"] == 1

    # the same graphs as each checkpoint's own export
    def onnx_sha(ck: str, name: str, file: str) -> str:
        d = str(tmp_path / name)
        export_mod.main(["--checkpoint", ck, "--out", d, "--small-max-crop-side", "96"])
        return export_mod.sha256_file(os.path.join(d, file))

    files = manifest["files_sha256"]
    assert files["decoder.onnx"] == onnx_sha(main_ck, "m", "decoder.onnx")
    assert files["encoder_160.onnx"] == onnx_sha(small_ck, "s", "encoder_160.onnx")
    assert files["decoder_160.onnx"] == export_mod.sha256_file(
        str(tmp_path / "s" / "decoder_160.onnx")
    )
    assert files["decoder_160.onnx"] != export_mod.sha256_file(
        str(tmp_path / "m" / "decoder_160.onnx")
    )


def test_ram_context_gives_a_large_object_a_larger_crop(subset: str) -> None:
    """`ram_context`: the crop side is at least that many times the object, so the box prompt
    of a large object spans less of the model frame (by the ratio of the two crop sides)."""
    from sopseg.geometry import hbox_of_points, ram_side

    data = CocoInstances(subset, preload=False)
    hbs = [hbox_of_points(i.obox.corners()) for i in data.instances]
    k = max(range(len(hbs)), key=lambda i: max(hbs[i][2], hbs[i][3]))
    d = max(hbs[k][2], hbs[k][3])
    assert ram_side(d, 1.3) > ram_side(d)  # large enough for the context to matter
    spans = []
    for context in (1.0, 1.3):
        cfg = SamplerConfig(train=False, input_size=128, ram_context=context)
        c = InstanceSampler(data, cfg, seed=0).make_sample(k)["coords"]
        spans.append(float(c[4, 0] - c[3, 0]))  # the box prompt's two corners, x
    assert spans[1] / spans[0] == pytest.approx(ram_side(d) / ram_side(d, 1.3), rel=1e-4)


def test_clean_prob_and_degrade_prob_set_the_shares_that_get_box_errors_and_degradation(
    subset: str, monkeypatch
) -> None:
    """`clean_prob` leaves that share of training boxes as labelled (the mixture is not drawn for
    them); `degrade_prob` degrades that share of the windows."""
    import sopseg.data as data_mod

    calls = {"mixture": 0, "degrade": 0}
    real_mixture, real_degrade = data_mod.mixture_obox, data_mod.degrade

    def counting_mixture(*a, **k):
        calls["mixture"] += 1
        return real_mixture(*a, **k)

    def counting_degrade(*a, **k):
        calls["degrade"] += 1
        return real_degrade(*a, **k)

    monkeypatch.setattr(data_mod, "mixture_obox", counting_mixture)
    monkeypatch.setattr(data_mod, "degrade", counting_degrade)
    data = CocoInstances(subset)
    n = 300

    def shares(clean: float, degrade: float) -> tuple[float, float]:
        calls.update(mixture=0, degrade=0)
        cfg = SamplerConfig(
            train=True,
            input_size=64,
            noise_mixture=True,
            degrade=True,
            clean_prob=clean,
            degrade_prob=degrade,
        )
        sampler = InstanceSampler(data, cfg, seed=5)
        for k in sampler.random_indices(n):
            sampler.make_sample(k)
        return calls["mixture"] / n, calls["degrade"] / n

    assert shares(0.0, 1.0) == (1.0, 1.0)  # the defaults: every sample, as before
    assert shares(1.0, 0.0) == (0.0, 0.0)
    mixed, degraded = shares(0.4, 0.5)
    assert 0.5 < mixed < 0.7
    assert 0.4 < degraded < 0.6
