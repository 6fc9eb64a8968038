import pytest
import torch

from sopseg.modeling import (
    LiteImageEncoder,
    MaskDecoder,
    ProgressiveRefiner,
    PromptEncoder,
    TwoWayTransformer,
    build_sopseg_lite,
)

B = 2


def opm_prompt(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    coords = torch.tensor(
        [[100.0, 110.0], [128.0, 128.0], [156.0, 146.0], [80.0, 90.0], [176.0, 166.0]]
    )
    labels = torch.tensor([1.0, 1.0, 1.0, 2.0, 3.0])
    return coords.expand(batch, -1, -1).clone(), labels.expand(batch, -1).clone()


def test_image_encoder_shapes() -> None:
    emb, shallow = LiteImageEncoder()(torch.randn(B, 3, 256, 256))
    assert emb.shape == (B, 128, 16, 16)
    assert shallow.shape == (B, 64, 16, 16)


def test_prompt_encoder_shapes_and_not_a_point() -> None:
    pe = PromptEncoder(embed_dim=128, image_embedding_size=(16, 16), input_image_size=(256, 256))
    coords, labels = opm_prompt(B)
    sparse, dense = pe(coords, labels)
    assert sparse.shape == (B, 5, 128)
    assert dense.shape == (1, 128, 16, 16)
    assert pe.get_dense_pe().shape == (1, 128, 16, 16)
    # a -1 token is exactly not_a_point_embed, whatever its coordinates
    labels[:, 0] = -1
    coords[0, 0] = torch.tensor([3.0, 7.0])
    sparse, _ = pe(coords, labels)
    assert torch.allclose(sparse[0, 0], pe.not_a_point_embed.weight[0])
    assert torch.allclose(sparse[1, 0], pe.not_a_point_embed.weight[0])
    # labels 2/3 add point_embeddings[2]/[3] to the coordinate encoding
    enc = pe.pe_layer.forward_with_coords(coords, (256, 256))
    assert torch.allclose(sparse[:, 3], enc[:, 3] + pe.point_embeddings[2].weight[0], atol=1e-6)
    assert torch.allclose(sparse[:, 4], enc[:, 4] + pe.point_embeddings[3].weight[0], atol=1e-6)


def test_prompt_encoder_no_half_pixel_shift() -> None:
    pe = PromptEncoder(embed_dim=128, image_embedding_size=(16, 16), input_image_size=(256, 256))
    # the dense PE of embedding cell (0, 0) has its centre at model coords (8, 8)
    dense = pe.get_dense_pe()[0, :, 0, 0]
    point = pe.pe_layer.forward_with_coords(torch.tensor([[[8.0, 8.0]]]), (256, 256))[0, 0]
    assert torch.allclose(dense, point, atol=1e-5)


def test_transformer_and_mask_decoder_shapes() -> None:
    t = TwoWayTransformer(depth=2, embedding_dim=128, num_heads=4, mlp_dim=512)
    pe = torch.randn(1, 128, 16, 16).expand(B, -1, -1, -1)
    q, k = t(torch.randn(B, 128, 16, 16), pe, torch.randn(B, 8, 128))
    assert q.shape == (B, 8, 128) and k.shape == (B, 256, 128)
    dec = MaskDecoder(transformer_dim=128, transformer=t, iou_head_hidden_dim=128)
    m0, e0, iou, feat = dec(
        torch.randn(B, 128, 16, 16),
        torch.randn(1, 128, 16, 16),
        torch.randn(B, 5, 128),
        torch.randn(1, 128, 16, 16),
    )
    assert m0.shape == (B, 1, 64, 64) and e0.shape == (B, 1, 64, 64)
    assert iou.shape == (B, 1) and feat.shape == (B, 128, 16, 16)


def test_refiner_shapes() -> None:
    out = ProgressiveRefiner()(
        torch.randn(B, 3, 256, 256),
        torch.randn(B, 64, 16, 16),
        torch.randn(B, 128, 16, 16),
        torch.randn(B, 2, 64, 64),
    )
    assert out["p4"].shape == (B, 2, 64, 64)
    assert out["p2"].shape == (B, 2, 128, 128)
    assert out["p1"].shape == (B, 2, 256, 256)
    assert out["iou"].shape == (B, 1)


def test_sopseg_forward_shapes_and_batch_independence() -> None:
    model = build_sopseg_lite().eval()
    coords, labels = opm_prompt(B)
    image = torch.randn(B, 3, 256, 256)
    with torch.no_grad():
        out = model(image, coords, labels)
        one = model(image[1:], coords[1:], labels[1:])
    assert out["p0"].shape == (B, 2, 64, 64)
    assert out["p1"].shape == (B, 2, 256, 256)
    assert out["iou"].shape == (B, 1) and out["iou0"].shape == (B, 1)
    assert torch.allclose(out["p1"][1:], one["p1"], atol=1e-4)


def _names_shapes(module: torch.nn.Module, prefix: str) -> dict[str, list[int]]:
    return {prefix + k: list(v.shape) for k, v in module.state_dict().items()}


def test_prompt_encoder_matches_sam_names(sam_shapes: dict) -> None:
    pe = PromptEncoder(embed_dim=256, image_embedding_size=(64, 64), input_image_size=(1024, 1024))
    ours = _names_shapes(pe, "prompt_encoder.")
    sam = {k: v for k, v in sam_shapes.items() if k.startswith("prompt_encoder.")}
    assert ours == sam


def test_transformer_matches_sam_names(sam_shapes: dict) -> None:
    t = TwoWayTransformer(depth=2, embedding_dim=256, num_heads=8, mlp_dim=2048)
    ours = _names_shapes(t, "mask_decoder.transformer.")
    sam = {k: v for k, v in sam_shapes.items() if k.startswith("mask_decoder.transformer.")}
    assert ours == sam


def test_mask_decoder_holds_sam_names(sam_shapes: dict) -> None:
    t = TwoWayTransformer(depth=2, embedding_dim=256, num_heads=8, mlp_dim=2048)
    dec = MaskDecoder(transformer_dim=256, transformer=t, num_multimask_outputs=3)
    ours = _names_shapes(dec, "mask_decoder.")
    sam = {k: v for k, v in sam_shapes.items() if k.startswith("mask_decoder.")}
    assert {k: ours.get(k) for k in sam} == sam
    extra = set(ours) - set(sam)
    ours_only = ("mask_decoder.edge_token", "mask_decoder.edge_hyper")
    assert extra and all(k.startswith(ours_only) for k in extra)


def test_conv_transpose_2x2_matches_torch() -> None:
    from sopseg.modeling.common import ConvTranspose2x2

    ours = ConvTranspose2x2(16, 8)
    ref = torch.nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(2, 16, 5, 7)
    assert torch.allclose(ours(x), ref(x), atol=1e-5)


@pytest.mark.parametrize("box_prior", [False, True])
def test_refiner_without_full_resolution_features_gives_the_same_numbers(box_prior: bool) -> None:
    """The refiner's fast path (no X1 at full resolution) equals METHOD.md's formulation,
    outputs and gradients, with every parameter non-trivial (phi3 starts at zero)."""
    torch.manual_seed(3)
    ref = ProgressiveRefiner(box_prior=box_prior).eval()
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.2 * torch.randn_like(p))
    image = torch.randn(B, 3, 256, 256, requires_grad=True)
    args = (
        torch.randn(B, 64, 16, 16),
        torch.randn(B, 128, 16, 16),
        torch.randn(B, 2, 64, 64),
        torch.rand(B, 1, 256, 256) if box_prior else None,
    )
    fast = ref(image, *args)
    slow = ref(image, *args, full_res=True)
    for k in ("p1", "iou", "p2"):
        scale = slow[k].abs().max().item()
        assert scale > 1.0, k  # a real signal, not zeros
        assert (fast[k] - slow[k]).abs().max().item() <= 1e-6 * scale, k  # float rounding only
    # the IoU head's 4x4 mean really is taken over a full-resolution map in the slow path
    assert fast["p1"].shape == slow["p1"].shape == (B, 2, 256, 256)
    g_fast = torch.autograd.grad(fast["p1"].square().sum() + fast["iou"].sum(), image)[0]
    g_slow = torch.autograd.grad(slow["p1"].square().sum() + slow["iou"].sum(), image)[0]
    g_scale = g_slow.abs().max().item()
    assert g_scale > 0 and (g_fast - g_slow).abs().max().item() <= 1e-5 * g_scale


@torch.no_grad()
def test_the_exported_mask_only_head_is_the_mask_channel_exactly() -> None:
    """freeze_for_export(mask_only=True): the full-resolution head computes channel 0 only,
    the same numbers up to float rounding (a 1-channel convolution may sum in another order;
    onnxruntime-web gives the same bits: BENCHMARKS.md); everything before it is untouched."""
    torch.manual_seed(4)
    ref = ProgressiveRefiner(box_prior=True).eval()
    for p in ref.parameters():
        p.add_(0.2 * torch.randn_like(p))
    args = (
        torch.randn(B, 3, 256, 256),
        torch.randn(B, 64, 16, 16),
        torch.randn(B, 128, 16, 16),
        torch.randn(B, 2, 64, 64),
        torch.rand(B, 1, 256, 256),
    )
    both = ref(*args)
    ref.freeze_for_export(mask_only=True)
    mask = ref(*args)
    assert mask["p1"].shape == (B, 1, 256, 256) and both["p1"].shape == (B, 2, 256, 256)
    scale = both["p1"].abs().max().item()
    assert scale > 1.0
    assert (mask["p1"] - both["p1"][:, 0:1]).abs().max().item() <= 1e-6 * scale
    assert torch.equal(mask["iou"], both["iou"]) and torch.equal(mask["p2"], both["p2"])


def test_avg_pool4_of_upsampled_is_exact_at_the_borders() -> None:
    from sopseg.modeling.common import upsample2x
    from sopseg.modeling.refinement import avg_pool4_of_upsampled

    y = torch.randn(2, 3, 10, 6)
    ref = torch.nn.functional.avg_pool2d(upsample2x(y), 4)
    got = avg_pool4_of_upsampled(y)
    assert got.shape == ref.shape == (2, 3, 5, 3)
    assert torch.allclose(got, ref, atol=1e-6)


def test_the_model_runs_at_192() -> None:
    from sopseg.modeling import checkpoint_input_size

    model = build_sopseg_lite(input_size=192).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, 192, 192), torch.rand(2, 5, 2) * 192, torch.ones(2, 5))
    assert out["p1"].shape == (2, 2, 192, 192) and out["iou"].shape == (2, 1)
    assert checkpoint_input_size({}) == 256 and checkpoint_input_size({"input_size": 192}) == 192
    with pytest.raises(ValueError, match="multiple of 16"):
        build_sopseg_lite(input_size=200)
