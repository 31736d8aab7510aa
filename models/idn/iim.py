"""The Identity Injection Module (IIM): runs once per source identity.

From the identity encoder's 512-d embedding and 512×7×7 feature map it makes the
IDN's 18 per-identity tensors ("identity pack"):
  - depthwise kernels, predicted from the feature map (`predictor`);
  - 1×1 weights, shared weights modulated by the embedding and demodulated
    (StyleGAN2-style; `EncoderModulation`, `DecoderModulation`).

Names mirror the official Paddle state dict (`MobileFaceSwap_224.pdparams`, module
`BuildFaceSwap`) so a converter maps keys 1:1:

  official key                                     here
  EncoderModulation.{0..4}.style.{weight,bias}   → IdentityInjectionModule.EncoderModulation.{i}.style.*
                                                   (Paddle Linear.weight is [in, out]: transpose)
  EncoderModulation.{0..4}.weight [Cout,Cin,1,1] → ….EncoderModulation.{i}.weight (as is)
  DecoderModulation.{0..3}.*                     → ….DecoderModulation.{i}.* (same form)
  predictor.first.* / predictor.norm.*           → ….predictor.first.* / .norm.*
  predictor.first_decoder.* / .decoder_norm.*    → ….predictor.first_decoder.* / .decoder_norm.*
  predictor.encoder.{0..4}.{conv,norm,weight}.*  → ….predictor.encoder.{i}.{conv,norm,weight}.*
  predictor.decoder.{0..3}.{conv,norm,weight}.*  → ….predictor.decoder.{i}.{conv,norm,weight}.*
  final.{1,2,4,5,7}.*                            → IdentityAwareDynamicNetwork.final.{1,2,4,5,7}.*
  mask.{0..4}.{1,2,3}.*, mask.5.*                → IdentityAwareDynamicNetwork.mask.{…} (same indices)
  BatchNorm: weight, bias, _mean, _variance      → weight, bias, running_mean, running_var
  (torch's num_batches_tracked has no Paddle counterpart; leave it.)

Only with guide channels (g > 0) there are two extra, non-official parameters,
`guide_depthwise` [g,1,4,4] and `guide_pointwise` [32,g,1,1]: see below.

LeakyReLU slope in the predictor: 0.1, as everywhere else in the official model
(the spec says only "LeakyReLU"; the official module layout uses 0.1 throughout,
and a converted checkpoint is only reproduced with that slope).
"""
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import IdnConfig
from .network import (
    BATCHNORM_EPS,
    DECODER_DEPTHWISE_NAMES,
    DECODER_IN_CHANNELS,
    DECODER_OUT_CHANNELS,
    DECODER_POINTWISE_NAMES,
    ENCODER_CHANNELS,
    ENCODER_DEPTHWISE_NAMES,
    ENCODER_KERNEL,
    ENCODER_POINTWISE_NAMES,
    IDENTITY_TENSOR_NAMES,
)

STYLE_DIM = 512
PREDICTOR_LEAKY_SLOPE = 0.1
DEMODULATION_EPS = 1e-16  # inside the square root, as specified


class WeightModulation(nn.Module):
    """A 1×1 conv weight modulated per input channel by the embedding, then demodulated.

    s = style(emb); W' = W ⊙ (1 + s) over C_in; W'' = W' / sqrt(Σ_{C_in} W'² + 1e-16)
    per output channel. Returns [B, C_out, C_in, 1, 1].
    """

    def __init__(self, in_channels: int, out_channels: int, style_dim: int = STYLE_DIM):
        super().__init__()
        self.style = nn.Linear(style_dim, in_channels)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, 1, 1))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)  # scale is irrelevant after demodulation

    def forward(self, embedding: Tensor) -> Tensor:
        scale = self.style(embedding)[:, None, :, None, None]  # [B, 1, C_in, 1, 1]
        weight = self.weight.unsqueeze(0) * (1 + scale)
        # Sum over C_in and the 1×1 kernel: one norm per (identity, output channel).
        demodulation = torch.rsqrt(weight.pow(2).sum(dim=(2, 3, 4), keepdim=True) + DEMODULATION_EPS)
        return weight * demodulation


class ConvBlock(nn.Module):
    """conv3×3 → BN → LeakyReLU feeds the chain; a second conv3×3 of it is a predicted kernel."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        self.norm = nn.BatchNorm2d(out_channels, eps=BATCHNORM_EPS)
        self.weight = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)

    def forward(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        features = F.leaky_relu(self.norm(self.conv(x)), PREDICTOR_LEAKY_SLOPE)
        return features, self.weight(features)


class WeightPredictor(nn.Module):
    """Depthwise kernels from the 512×7×7 identity feature map.

    first (k4): 7×7 → 4×4; the encoder chain 512→256→128→64→32→3 stays 4×4 (4×4 kernels);
    first_decoder (k2): 4×4 → 3×3; the decoder chain 512→512→512→256→128 gives 3×3 kernels.
    """

    ENCODER_CHAIN = (STYLE_DIM,) + ENCODER_CHANNELS[-2::-1]  # 512, 256, 128, 64, 32, 3
    DECODER_CHAIN = (STYLE_DIM,) + DECODER_IN_CHANNELS  # 512, 512, 512, 256, 128

    def __init__(self):
        super().__init__()
        self.first = nn.Conv2d(STYLE_DIM, STYLE_DIM, kernel_size=4)
        self.norm = nn.BatchNorm2d(STYLE_DIM, eps=BATCHNORM_EPS)
        self.first_decoder = nn.Conv2d(STYLE_DIM, STYLE_DIM, kernel_size=2)
        self.decoder_norm = nn.BatchNorm2d(STYLE_DIM, eps=BATCHNORM_EPS)
        self.encoder = nn.ModuleList(
            ConvBlock(c_in, c_out) for c_in, c_out in zip(self.ENCODER_CHAIN[:-1], self.ENCODER_CHAIN[1:])
        )
        self.decoder = nn.ModuleList(
            ConvBlock(c_in, c_out) for c_in, c_out in zip(self.DECODER_CHAIN[:-1], self.DECODER_CHAIN[1:])
        )

    def forward(self, feature_map: Tensor) -> Tuple[List[Tensor], List[Tensor]]:
        """Returns (encoder kernels in IDN layer order, decoder kernels), each [B, C, k, k]."""
        z = F.leaky_relu(self.norm(self.first(feature_map)), PREDICTOR_LEAKY_SLOPE)
        encoder_kernels = []
        x = z
        for block in self.encoder:
            x, kernel = block(x)
            encoder_kernels.append(kernel)
        y = F.leaky_relu(self.decoder_norm(self.first_decoder(z)), PREDICTOR_LEAKY_SLOPE)
        decoder_kernels = []
        for block in self.decoder:
            y, kernel = block(y)
            decoder_kernels.append(kernel)
        # The encoder chain narrows 256 → 3, the IDN encoder widens 3 → 256: reverse.
        return encoder_kernels[::-1], decoder_kernels


class IdentityInjectionModule(nn.Module):
    """forward(embedding [B,512], feature_map [B,512,7,7]) -> {name: [B, *shape]}.

    Names and shapes per network.identity_tensor_shapes(config); index the batch
    (or use identity_pack) to get one identity's 18 tensors for the IDN.

    Guide channels (g > 0): the IIM predicts kernels for the 3 image channels only.
    The guide channels' first-layer depthwise kernel (`guide_depthwise`, [g,1,4,4])
    and their columns of the first 1×1 weight (`guide_pointwise`, [32,g,1,1]) are
    shared learned parameters, identical for every identity, concatenated AFTER the
    image channels' (already demodulated) predictions. The image part is therefore
    exactly the paper's computation, and with `guide_pointwise` at its zero
    initialisation the guided IDN computes exactly what the paper's does: a
    converted official checkpoint is a valid starting point for fine-tuning.
    """

    def __init__(self, config: IdnConfig = IdnConfig()):
        super().__init__()
        self.config = config
        self.EncoderModulation = nn.ModuleList(
            WeightModulation(c_in, c_out) for c_in, c_out in zip(ENCODER_CHANNELS[:-1], ENCODER_CHANNELS[1:])
        )
        self.DecoderModulation = nn.ModuleList(
            WeightModulation(c_in, c_out) for c_in, c_out in zip(DECODER_IN_CHANNELS, DECODER_OUT_CHANNELS)
        )
        self.predictor = WeightPredictor()
        g = config.guide_channels
        if g:
            self.guide_depthwise = nn.Parameter(torch.empty(g, 1, ENCODER_KERNEL, ENCODER_KERNEL))
            nn.init.uniform_(self.guide_depthwise, -0.25, 0.25)
            self.guide_pointwise = nn.Parameter(torch.zeros(ENCODER_CHANNELS[1], g, 1, 1))

    def forward(self, embedding: Tensor, feature_map: Tensor) -> Dict[str, Tensor]:
        encoder_kernels, decoder_kernels = self.predictor(feature_map)
        pack: Dict[str, Tensor] = {}
        # Official: weights[i][0].unsqueeze(1) turns identity 0's [C,k,k] map into a
        # [C,1,k,k] depthwise kernel; batched, that is an unsqueeze at dim 2.
        for name, kernel in zip(ENCODER_DEPTHWISE_NAMES, encoder_kernels):
            pack[name] = kernel.unsqueeze(2)
        for name, modulation in zip(ENCODER_POINTWISE_NAMES, self.EncoderModulation):
            pack[name] = modulation(embedding)
        for name, kernel in zip(DECODER_DEPTHWISE_NAMES, decoder_kernels):
            pack[name] = kernel.unsqueeze(2)
        for name, modulation in zip(DECODER_POINTWISE_NAMES, self.DecoderModulation):
            pack[name] = modulation(embedding)
        if self.config.guide_channels:
            batch = embedding.shape[0]
            first_dw, first_pw = ENCODER_DEPTHWISE_NAMES[0], ENCODER_POINTWISE_NAMES[0]
            guide_dw = self.guide_depthwise.unsqueeze(0).expand(batch, -1, -1, -1, -1)
            guide_pw = self.guide_pointwise.unsqueeze(0).expand(batch, -1, -1, -1, -1)
            pack[first_dw] = torch.cat((pack[first_dw], guide_dw), dim=1)  # channels: RGB, then guide
            pack[first_pw] = torch.cat((pack[first_pw], guide_pw), dim=2)  # C_in columns likewise
        return {name: pack[name] for name in IDENTITY_TENSOR_NAMES}

    def identity_pack(self, embedding: Tensor, feature_map: Tensor, index: int = 0) -> Dict[str, Tensor]:
        """One identity's 18 tensors, without the batch dimension (what the IDN takes)."""
        return {name: tensor[index] for name, tensor in self(embedding, feature_map).items()}
