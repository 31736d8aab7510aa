"""Random-weight models for mechanics tests and app development (never for users).

Default inits leave a random IIM+IDN nearly constant: the predicted kernels are
tiny, so the image signal dies in the encoder and the output ignores both the
target and the identity. That would let parity tests pass while missing bugs.
So the random weights are calibrated layer by layer (LSUV-style: rescale each
conv so its output has a chosen standard deviation on a sample input), and
BatchNorm statistics get random non-trivial values.
"""
from contextlib import contextmanager
from typing import Callable, Iterator, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import IdnConfig
from .encoder import SOURCE_CROP, IdentityEncoder, RandomIdentityEncoder
from .iim import ConvBlock, IdentityInjectionModule
from .network import ENCODER_KERNEL, DECODER_KERNEL, IdentityAwareDynamicNetwork, identity_args

STYLE_SCALE_STD = 0.5  # makes the embedding visibly change the 1×1 weights


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    # A private RNG stream: the weights depend on the seed only, not on what ran before.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def sample_face(seed: int = 0) -> Tensor:
    """A smooth synthetic 'face' [1,3,224,224] in [0,1] (no real face needed)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 8, 8, generator=generator)
    return F.interpolate(coarse, size=(SOURCE_CROP, SOURCE_CROP), mode="bilinear", align_corners=False)


def sample_target(config: IdnConfig, seed: int = 1) -> Tensor:
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, config.input_channels, 16, 16, generator=generator)
    return F.interpolate(coarse, size=(config.crop, config.crop), mode="bilinear", align_corners=False)


def randomize_batchnorm_and_guide_(module: nn.Module, seed: int) -> nn.Module:
    """Fresh BN in eval mode is an identity and guide_pointwise starts at zero: give
    both random values so every path is exercised."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for child in module.modules():
            if isinstance(child, nn.BatchNorm2d):
                c = child.num_features
                child.weight.copy_(1 + 0.2 * (torch.rand(c, generator=generator) - 0.5))
                child.bias.copy_(0.1 * torch.randn(c, generator=generator))
                child.running_mean.copy_(0.1 * torch.randn(c, generator=generator))
                child.running_var.copy_(0.5 + torch.rand(c, generator=generator))
        for name, param in module.named_parameters():
            if name == "guide_pointwise":
                param.copy_(0.2 * torch.randn(param.shape, generator=generator))
    return module


def _calibrate_(layers: List[Tuple[nn.Module, float]], run: Callable[[], object]) -> None:
    """Rescale each layer (weight and bias together) so its output std is the target.

    One forward pass: a layer is linear in (weight, bias), so each hook rescales the
    parameters and returns the equally rescaled output, and later layers are measured
    on already calibrated inputs. Each layer must run exactly once per forward.
    """
    targets = dict((id(layer), target_std) for layer, target_std in layers)

    def rescale(layer: nn.Module, _inputs: object, output: Tensor) -> Tensor:
        factor = targets.pop(id(layer)) / float(output.std().clamp_min(1e-12))
        layer.weight.mul_(factor)
        if layer.bias is not None:
            layer.bias.mul_(factor)
        return output * factor

    hooks = [layer.register_forward_hook(rescale) for layer, _ in layers]
    try:
        with torch.no_grad():
            run()
    finally:
        for hook in hooks:
            hook.remove()
    if targets:
        raise RuntimeError(f"{len(targets)} layers did not run during calibration")


def _iim_layers(iim: IdentityInjectionModule) -> List[Tuple[nn.Module, float]]:
    predictor = iim.predictor
    layers = [(predictor.first, 1.0), (predictor.first_decoder, 1.0)]
    # Predicted k×k depthwise kernels with std 1/k have a gain of about 1.
    for blocks, kernel in ((predictor.encoder, ENCODER_KERNEL), (predictor.decoder, DECODER_KERNEL)):
        for block in blocks:
            assert isinstance(block, ConvBlock)
            layers += [(block.conv, 1.0), (block.weight, 1.0 / kernel)]
    layers += [(modulation.style, STYLE_SCALE_STD) for modulation in iim.EncoderModulation]
    layers += [(modulation.style, STYLE_SCALE_STD) for modulation in iim.DecoderModulation]
    return layers


def build_random_models(config: IdnConfig, seed: int = 0) -> Tuple[IdentityEncoder, IdentityInjectionModule,
                                                                    IdentityAwareDynamicNetwork]:
    """Random-weight encoder, IIM and IDN (eval mode), deterministic for a seed.

    Each part has its own seed stream and the IIM is calibrated without the IDN, so
    identity.onnx and conditioner.onnx do not depend on the crop: one identity pack
    fits the 224 and the 128 generator alike.
    """
    encoder = RandomIdentityEncoder(seed).eval()
    with _seeded(seed + 1):
        iim = randomize_batchnorm_and_guide_(IdentityInjectionModule(config), seed + 1).eval()
    with _seeded(seed + 2):
        idn = randomize_batchnorm_and_guide_(IdentityAwareDynamicNetwork(config), seed + 2).eval()

    with torch.no_grad():
        embedding, feature_map = encoder(sample_face(seed))
    _calibrate_(_iim_layers(iim), lambda: iim(embedding, feature_map))
    with torch.no_grad():
        pack = identity_args(iim.identity_pack(embedding, feature_map))
    target = sample_target(config, seed + 1)
    idn_convs = [(m, 1.0) for head in (idn.final, idn.mask) for m in head.modules() if isinstance(m, nn.Conv2d)]
    _calibrate_(idn_convs, lambda: idn(target, *pack))
    return encoder, iim, idn
