"""The per-frame IDN (identity-aware dynamic network) of MobileFaceSwap.

Layer by layer as ../shared/docs/mobilefaceswap.md (from the repo root) specifies. The 18
identity-specific tensors (9 depthwise kernels, 9 pointwise weights) are
forward INPUTS, applied with functional convs, so one exported graph serves
every identity; the shared heads (`final`, `mask`) are ordinary parameters.
"""
from typing import Dict, List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import IdnConfig

ENCODER_CHANNELS = (3, 32, 64, 128, 256, 512)
DECODER_IN_CHANNELS = (512, 512, 256, 128)
DECODER_OUT_CHANNELS = (256, 128, 64, 32)
MASK_CHANNELS = (512, 128, 64, 32, 8, 2)
LEAKY_SLOPE = 0.1
BATCHNORM_EPS = 1e-5  # Paddle's default (torch's too); explicit because a converter relies on it.
ENCODER_KERNEL = 4
# The guide layout the warp-guided variant expects: warped source RGB, then its coverage mask.
GUIDE_RGB_MASK = 4
DECODER_KERNEL = 3

ENCODER_DEPTHWISE_NAMES = tuple(f"enc_dw_{i}" for i in range(5))
ENCODER_POINTWISE_NAMES = tuple(f"enc_pw_{i}" for i in range(5))
DECODER_DEPTHWISE_NAMES = tuple(f"dec_dw_{i}" for i in range(4))
DECODER_POINTWISE_NAMES = tuple(f"dec_pw_{i}" for i in range(4))
# The order of the generator's per-identity inputs (and the conditioner's outputs).
IDENTITY_TENSOR_NAMES = (
    ENCODER_DEPTHWISE_NAMES + ENCODER_POINTWISE_NAMES + DECODER_DEPTHWISE_NAMES + DECODER_POINTWISE_NAMES
)


def encoder_in_channels(config: IdnConfig) -> Tuple[int, ...]:
    # Only the first block sees the guide channels; the rest is the paper's.
    return (config.input_channels,) + ENCODER_CHANNELS[1:-1]


def identity_tensor_shapes(config: IdnConfig) -> Dict[str, Tuple[int, ...]]:
    """Shape of each per-identity tensor, without a batch dimension."""
    enc_in = encoder_in_channels(config)
    shapes: Dict[str, Tuple[int, ...]] = {}
    for i, c_in in enumerate(enc_in):
        shapes[ENCODER_DEPTHWISE_NAMES[i]] = (c_in, 1, ENCODER_KERNEL, ENCODER_KERNEL)
        shapes[ENCODER_POINTWISE_NAMES[i]] = (ENCODER_CHANNELS[i + 1], c_in, 1, 1)
    for i, (c_in, c_out) in enumerate(zip(DECODER_IN_CHANNELS, DECODER_OUT_CHANNELS)):
        shapes[DECODER_DEPTHWISE_NAMES[i]] = (c_in, 1, DECODER_KERNEL, DECODER_KERNEL)
        shapes[DECODER_POINTWISE_NAMES[i]] = (c_out, c_in, 1, 1)
    return {name: shapes[name] for name in IDENTITY_TENSOR_NAMES}


def upsample2x(x: Tensor) -> Tensor:
    # align_corners=True everywhere: the official decoder, final and mask heads all use it.
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)


class Upsample2x(nn.Module):
    """Module form of `upsample2x`, so the heads keep the official Sequential indices."""

    def forward(self, x: Tensor) -> Tensor:
        return upsample2x(x)


class DecoderSkipConcat(nn.Module):
    """Channel concat of the decoder block output FIRST, then the encoder skip.

    The order decides which input channels of the next decoder block's depthwise
    kernel and 1×1 weight see which features, so a converted checkpoint only
    works with the official order: (decoded, skip).
    """

    def forward(self, decoded: Tensor, skip: Tensor) -> Tensor:
        return torch.cat((decoded, skip), dim=1)


def _batchnorm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BATCHNORM_EPS)


def build_final_head() -> nn.Sequential:
    # Indices 1, 2, 4, 5, 7 hold parameters, matching the official `final.{1,2,4,5,7}` keys.
    c = DECODER_OUT_CHANNELS[-1]
    return nn.Sequential(
        Upsample2x(),
        nn.Conv2d(c, c // 4, kernel_size=1),
        _batchnorm(c // 4),
        nn.LeakyReLU(LEAKY_SLOPE),
        nn.Conv2d(c // 4, 3, kernel_size=3, padding=1),
        _batchnorm(3),
        nn.LeakyReLU(LEAKY_SLOPE),
        nn.Conv2d(3, 3, kernel_size=3, padding=1),
        nn.Tanh(),
    )


def build_mask_head() -> nn.Sequential:
    # Stage indices 1, 2, 3 (depthwise, 1×1, BN) and index 5 (last conv) match `mask.*` keys.
    stages: List[nn.Module] = []
    for c_in, c_out in zip(MASK_CHANNELS[:-1], MASK_CHANNELS[1:]):
        stages.append(
            nn.Sequential(
                Upsample2x(),
                nn.Conv2d(c_in, c_in, kernel_size=3, padding=1, groups=c_in),
                nn.Conv2d(c_in, c_out, kernel_size=1),
                _batchnorm(c_out),
                nn.LeakyReLU(LEAKY_SLOPE),
            )
        )
    stages.append(nn.Conv2d(MASK_CHANNELS[-1], 1, kernel_size=3, padding=1))
    stages.append(nn.Sigmoid())
    return nn.Sequential(*stages)


class IdentityAwareDynamicNetwork(nn.Module):
    """The per-frame swap network.

    forward(target, *identity_tensors) -> (result, mask)
      target: [B, 3+g, crop, crop] in [0, 1]; channels 0..2 are the target RGB,
        the rest are guide channels (normalised the same way as the RGB).
      identity_tensors: the 18 tensors in IDENTITY_TENSOR_NAMES order, shapes from
        identity_tensor_shapes(); shared by the whole batch.
      result: [B, 3, crop, crop]; mask: [B, 1, crop, crop] (also used for paste-back).
      With 4 guide channels (warped source RGB + its mask), the face is the guide plus a
      predicted correction: out = clamp(guide-or-target + 0.5·final(y), 0, 1).
    """

    def __init__(self, config: IdnConfig = IdnConfig()):
        super().__init__()
        self.config = config
        self.encoder_in_channels = encoder_in_channels(config)
        # The official IDN's encoder/decoder convs have biases that the checkpoint never sets,
        # so official inference runs them at Paddle's initial value, zero. Kept as zero
        # constants (non-persistent, so state_dict keys stay the official ones).
        for i, c_in in enumerate(self.encoder_in_channels):
            self.register_buffer(f"enc_dw_bias_{i}", torch.zeros(c_in), persistent=False)
            self.register_buffer(f"enc_pw_bias_{i}", torch.zeros(ENCODER_CHANNELS[i + 1]), persistent=False)
        for i, (c_in, c_out) in enumerate(zip(DECODER_IN_CHANNELS, DECODER_OUT_CHANNELS)):
            self.register_buffer(f"dec_dw_bias_{i}", torch.zeros(c_in), persistent=False)
            self.register_buffer(f"dec_pw_bias_{i}", torch.zeros(c_out), persistent=False)
        self.skip_concat = DecoderSkipConcat()
        self.final = build_final_head()
        self.mask = build_mask_head()

    def forward(self, target: Tensor, *identity_tensors: Tensor) -> Tuple[Tensor, Tensor]:
        if len(identity_tensors) != len(IDENTITY_TENSOR_NAMES):
            raise ValueError(f"expected {len(IDENTITY_TENSOR_NAMES)} identity tensors, got {len(identity_tensors)}")
        params = dict(zip(IDENTITY_TENSOR_NAMES, identity_tensors))
        x = (target - 0.5) / 0.5

        encoder_outputs: List[Tensor] = []
        for i, c_in in enumerate(self.encoder_in_channels):
            x = F.conv2d(x, params[ENCODER_DEPTHWISE_NAMES[i]], getattr(self, f"enc_dw_bias_{i}"),
                         stride=2, padding=1, groups=c_in)
            x = F.conv2d(x, params[ENCODER_POINTWISE_NAMES[i]], getattr(self, f"enc_pw_bias_{i}"))
            x = F.leaky_relu(x, LEAKY_SLOPE)
            encoder_outputs.append(x)

        # The mask head learns from the bottleneck without steering the encoder.
        mask = self.mask(encoder_outputs[-1].detach())

        y = encoder_outputs[-1]
        last = len(DECODER_IN_CHANNELS) - 1
        for i, c_in in enumerate(DECODER_IN_CHANNELS):
            y = upsample2x(y)
            y = F.conv2d(y, params[DECODER_DEPTHWISE_NAMES[i]], getattr(self, f"dec_dw_bias_{i}"),
                         padding=1, groups=c_in)
            y = F.conv2d(y, params[DECODER_POINTWISE_NAMES[i]], getattr(self, f"dec_pw_bias_{i}"))
            y = F.leaky_relu(y, LEAKY_SLOPE)
            if i != last:
                # Decoder block i's output has the size of encoder block (3 - i)'s output.
                y = self.skip_concat(y, encoder_outputs[last - i])

        target_rgb = target[:, :3]
        if self.config.guide_channels == GUIDE_RGB_MASK:
            # Warp-guided: the head predicts a correction to the mesh-warped source (the
            # target where the warp doesn't reach), not the face from scratch. The decoder
            # ends at half resolution, so a from-scratch face is blurry; the guide carries
            # the full-resolution detail and the network fixes colour, seams and shading.
            guide_rgb, guide_mask = target[:, 3:6], target[:, 6:7]
            base = guide_rgb * guide_mask + target_rgb * (1 - guide_mask)
            out = (base + 0.5 * self.final(y)).clamp(0, 1)
        else:
            out = (1 + self.final(y)) / 2
        result = out * mask + (1 - mask) * target_rgb
        return result, mask


def identity_args(pack: Dict[str, Tensor]) -> Sequence[Tensor]:
    """A name->tensor identity pack as the positional arguments forward() expects."""
    return [pack[name] for name in IDENTITY_TENSOR_NAMES]
