"""The torch IDN and IIM against the spec (../shared/docs/mobilefaceswap.md from the repo root)."""
import re
from functools import lru_cache

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from idn import IdentityAwareDynamicNetwork, IdentityInjectionModule, IdnConfig, RandomIdentityEncoder
from idn.iim import DEMODULATION_EPS, WeightModulation
from idn.network import (
    DECODER_OUT_CHANNELS,
    ENCODER_DEPTHWISE_NAMES,
    ENCODER_POINTWISE_NAMES,
    IDENTITY_TENSOR_NAMES,
    identity_args,
    identity_tensor_shapes,
    upsample2x,
)
from idn.random_init import sample_face, sample_target


@lru_cache(maxsize=None)
def _encoder_output():
    with torch.no_grad():
        return RandomIdentityEncoder(0).eval()(sample_face())


@lru_cache(maxsize=None)
def _iim(guide_channels: int) -> IdentityInjectionModule:
    # The IIM does not depend on the crop; one per guide setting keeps the suite fast.
    torch.manual_seed(guide_channels)
    return IdentityInjectionModule(IdnConfig(guide_channels=guide_channels)).eval()


@lru_cache(maxsize=None)
def _pack(guide_channels: int):
    with torch.no_grad():
        return _iim(guide_channels).identity_pack(*_encoder_output())


@pytest.mark.parametrize("crop,guide", [(224, 0), (224, 4), (128, 0), (128, 4)])
def test_idn_shapes(crop, guide):
    config = IdnConfig(crop=crop, guide_channels=guide)
    pack = _pack(guide)
    assert {name: tuple(t.shape) for name, t in pack.items()} == identity_tensor_shapes(config)
    assert pack["enc_dw_0"].shape == (3 + guide, 1, 4, 4)
    assert pack["enc_pw_0"].shape == (32, 3 + guide, 1, 1)
    idn = IdentityAwareDynamicNetwork(config).eval()
    with torch.no_grad():
        result, mask = idn(sample_target(config), *identity_args(pack))
    assert result.shape == (1, 3, crop, crop)
    assert mask.shape == (1, 1, crop, crop)
    assert torch.isfinite(result).all() and ((mask >= 0) & (mask <= 1)).all()


def test_iim_output_shapes_and_kernel_layout():
    iim = _iim(0)
    embedding, feature_map = _encoder_output()
    embeddings, feature_maps = embedding.repeat(2, 1), feature_map.repeat(2, 1, 1, 1)
    with torch.no_grad():
        batched = iim(embeddings, feature_maps)
        encoder_kernels, decoder_kernels = iim.predictor(feature_maps)
    shapes = identity_tensor_shapes(IdnConfig())
    assert list(batched) == list(IDENTITY_TENSOR_NAMES)
    for name, tensor in batched.items():
        assert tuple(tensor.shape) == (2,) + shapes[name]
    # Predictor outputs: encoder kernels in IDN order (C = 3, 32, 64, 128, 256) at 4×4,
    # decoder kernels for C = 512, 512, 256, 128 at 3×3.
    assert [tuple(k.shape) for k in encoder_kernels] == [(2, c, 4, 4) for c in (3, 32, 64, 128, 256)]
    assert [tuple(k.shape) for k in decoder_kernels] == [(2, c, 3, 3) for c in (512, 512, 256, 128)]
    # The official layout: weights[i][0].unsqueeze(1) is identity 0's depthwise kernel.
    pack = {name: tensor[0] for name, tensor in batched.items()}
    for i, kernel in enumerate(encoder_kernels):
        assert torch.equal(pack[f"enc_dw_{i}"], kernel[0].unsqueeze(1))
    for i, kernel in enumerate(decoder_kernels):
        assert torch.equal(pack[f"dec_dw_{i}"], kernel[0].unsqueeze(1))


def test_iim_has_the_spec_parameter_count():
    total = sum(p.numel() for p in _iim(0).parameters())
    assert abs(total - 20.6e6) / 20.6e6 < 0.01  # spec: "about 20.6M params"


def _expected_official_keys():
    keys = set()
    bn = ("weight", "bias", "running_mean", "running_var")
    for prefix, count in (("EncoderModulation", 5), ("DecoderModulation", 4)):
        for i in range(count):
            keys |= {f"{prefix}.{i}.style.weight", f"{prefix}.{i}.style.bias", f"{prefix}.{i}.weight"}
    for conv in ("first", "first_decoder"):
        keys |= {f"predictor.{conv}.weight", f"predictor.{conv}.bias"}
    for norm in ("norm", "decoder_norm"):
        keys |= {f"predictor.{norm}.{k}" for k in bn}
    for chain, count in (("encoder", 5), ("decoder", 4)):
        for i in range(count):
            for conv in ("conv", "weight"):
                keys |= {f"predictor.{chain}.{i}.{conv}.weight", f"predictor.{chain}.{i}.{conv}.bias"}
            keys |= {f"predictor.{chain}.{i}.norm.{k}" for k in bn}
    return keys


def _without_batch_counters(state_dict):
    return {k for k in state_dict if not k.endswith("num_batches_tracked")}


def test_state_dict_names_mirror_the_official_checkpoint():
    assert _without_batch_counters(_iim(0).state_dict()) == _expected_official_keys()
    assert _without_batch_counters(_iim(4).state_dict()) == _expected_official_keys() | {
        "guide_depthwise", "guide_pointwise"}
    idn_keys = _without_batch_counters(IdentityAwareDynamicNetwork().state_dict())
    pattern = re.compile(r"^(final\.[12457]|mask\.[0-4]\.[123]|mask\.5)\.(weight|bias|running_mean|running_var)$")
    assert idn_keys and all(pattern.match(k) for k in idn_keys), sorted(idn_keys)
    assert {k.rsplit(".", 1)[0] for k in idn_keys} == (
        {f"final.{i}" for i in (1, 2, 4, 5, 7)} | {f"mask.{s}.{i}" for s in range(5) for i in (1, 2, 3)} | {"mask.5"})


def _numpy_modulation(weight, style_weight, style_bias, embedding):
    s = embedding.astype(np.float64) @ style_weight.T.astype(np.float64) + style_bias
    modulated = weight[None].astype(np.float64) * (1 + s[:, None, :, None, None])
    norm = np.sqrt((modulated ** 2).sum(axis=(2, 3, 4), keepdims=True) + 1e-16)
    return modulated / norm


def test_modulation_matches_direct_numpy_computation():
    torch.manual_seed(0)
    layer = WeightModulation(in_channels=6, out_channels=5)
    embedding = F.normalize(torch.randn(2, 512), dim=1)
    with torch.no_grad():
        got = layer(embedding).numpy()
    want = _numpy_modulation(layer.weight.detach().numpy(), layer.style.weight.detach().numpy(),
                             layer.style.bias.detach().numpy(), embedding.numpy())
    assert got.shape == (2, 5, 6, 1, 1)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # Demodulated: every (identity, output channel) row has unit norm over C_in.
    np.testing.assert_allclose((got ** 2).sum(axis=(2, 3, 4)), 1.0, rtol=1e-5)


def test_demodulation_epsilon_is_1e_16_inside_the_root():
    assert DEMODULATION_EPS == 1e-16
    layer = WeightModulation(in_channels=4, out_channels=2)
    with torch.no_grad():
        layer.style.weight.zero_()
        layer.style.bias.zero_()  # s = 0: W' = W
        layer.weight.fill_(1e-8)  # Σ W'² = 4e-16, comparable to eps
        layer.weight[1].zero_()  # an all-zero row must stay zero, not NaN
        got = layer(torch.ones(1, 512))
    np.testing.assert_allclose(got[0, 0].flatten().numpy(), 1e-8 / np.sqrt(4e-16 + 1e-16), rtol=1e-4)
    assert torch.equal(got[0, 1], torch.zeros_like(got[0, 1]))


def test_upsample_is_bilinear_with_align_corners():
    ramp = torch.tensor([[[[0.0, 3.0], [6.0, 9.0]]]])
    up = upsample2x(ramp)
    # align_corners=True: the corners keep their values and the rest is spaced by thirds.
    expected = torch.tensor([[0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7], [6, 7, 8, 9]], dtype=torch.float32)
    assert torch.allclose(up[0, 0], expected, atol=1e-6)


def _encoder_outputs(target, pack, input_channels):
    # An independent re-statement of the spec's encoder, to identify the skips.
    x, outputs = (target - 0.5) / 0.5, []
    channels = [input_channels, 32, 64, 128, 256]
    for i, c in enumerate(channels):
        x = F.conv2d(x, pack[ENCODER_DEPTHWISE_NAMES[i]], stride=2, padding=1, groups=c)
        x = F.leaky_relu(F.conv2d(x, pack[ENCODER_POINTWISE_NAMES[i]]), 0.1)
        outputs.append(x)
    return outputs


@pytest.mark.parametrize("guide", [0, 4])
def test_decoder_concatenates_its_output_first_then_the_encoder_skip(guide):
    config = IdnConfig(crop=128, guide_channels=guide)
    pack, target = _pack(guide), sample_target(config)
    idn = IdentityAwareDynamicNetwork(config).eval()
    calls = []
    hook = idn.skip_concat.register_forward_hook(lambda _m, inputs, output: calls.append((inputs, output)))
    with torch.no_grad():
        idn(target, *identity_args(pack))
        encoder_outputs = _encoder_outputs(target, pack, config.input_channels)
    hook.remove()
    assert len(calls) == 3  # after every decoder block but the last
    for i, ((decoded, skip), merged) in enumerate(calls):
        assert decoded.shape[1] == DECODER_OUT_CHANNELS[i]
        assert torch.allclose(skip, encoder_outputs[3 - i], atol=1e-6)  # same size: encoder block 3-i
        assert torch.equal(merged[:, :decoded.shape[1]], decoded)
        assert torch.equal(merged[:, decoded.shape[1]:], skip)


def test_mask_head_reads_the_detached_bottleneck():
    config = IdnConfig(crop=128)
    pack = {name: t.clone().requires_grad_(True) for name, t in _pack(0).items()}
    idn = IdentityAwareDynamicNetwork(config).eval()
    _, mask = idn(sample_target(config), *identity_args(pack))
    mask.sum().backward()
    assert all(t.grad is None for t in pack.values())
    assert idn.mask[0][1].weight.grad is not None


def test_output_is_the_target_rgb_where_the_mask_is_zero():
    config = IdnConfig(crop=128, guide_channels=4)
    idn = IdentityAwareDynamicNetwork(config).eval()
    with torch.no_grad():
        idn.mask[5].bias.fill_(-1e4)  # sigmoid → 0
        target = sample_target(config)
        result, mask = idn(target, *identity_args(_pack(4)))
    assert mask.max() == 0
    assert torch.allclose(result, target[:, :3])


def test_guided_variant_shares_the_paper_network_and_corrects_the_guide():
    """Image-channel predictions are the paper's and zero-initialised guide columns make
    the guide channels inert in the encoder, so the mask is the paper network's; the face
    is the guide plus the head's correction (a zero head gives the plain mesh warp)."""
    paper_iim, guided_iim = _iim(0), IdentityInjectionModule(IdnConfig(guide_channels=4)).eval()
    guided_iim.load_state_dict(paper_iim.state_dict(), strict=False)
    paper_pack = _pack(0)
    with torch.no_grad():
        guided_pack = guided_iim.identity_pack(*_encoder_output())
    assert torch.equal(guided_pack["enc_dw_0"][:3], paper_pack["enc_dw_0"])
    assert torch.equal(guided_pack["enc_dw_0"][3:], guided_iim.guide_depthwise)
    assert torch.equal(guided_pack["enc_pw_0"][:, :3], paper_pack["enc_pw_0"])
    assert torch.equal(guided_pack["enc_pw_0"][:, 3:], guided_iim.guide_pointwise)
    for name in IDENTITY_TENSOR_NAMES[1:]:
        if name != "enc_pw_0":
            assert torch.equal(guided_pack[name], paper_pack[name])

    paper_idn = IdentityAwareDynamicNetwork(IdnConfig(crop=128)).eval()
    guided_idn = IdentityAwareDynamicNetwork(IdnConfig(crop=128, guide_channels=4)).eval()
    guided_idn.load_state_dict(paper_idn.state_dict())
    target = sample_target(IdnConfig(crop=128, guide_channels=4))
    with torch.no_grad():
        want = paper_idn(target[:, :3], *identity_args(paper_pack))
        got = guided_idn(target, *identity_args(guided_pack))
        assert torch.allclose(got[1], want[1], atol=1e-6)
        head = guided_idn.final[-2]
        head.weight.zero_()
        head.bias.zero_()
        result, mask = guided_idn(target, *identity_args(guided_pack))
    rgb, guide, cover = target[:, :3], target[:, 3:6], target[:, 6:7]
    base = guide * cover + rgb * (1 - cover)
    assert torch.allclose(result, mask * base + (1 - mask) * rgb, atol=1e-6)
