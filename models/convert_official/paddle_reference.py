"""Our own PaddlePaddle definitions of the official MobileFaceSwap modules, for tests only.

Written from the spec, ../shared/docs/mobilefaceswap.md from the repo root (no official code was copied or seen): they
reproduce the official *state-dict names and shapes* (so `.pdparams` saved from them have the
layout of `MobileFaceSwap_224.pdparams` / `arcface.pdparams`) and the official forward
semantics as the spec states them, in Paddle's own ops (Paddle's Linear [in, out] layout,
Paddle's BatchNorm running-stat names and eps, Paddle's bilinear interpolation). The parity
tests save random weights from these, convert them with `convert_official.convert`, and
compare the ONNX files against these modules' forward passes.

Where the spec leaves a detail open, the choice is a named constant below (see README.md,
"Details the spec leaves open"); the torch implementation in models/idn/ makes the same ones.

Modules:
  * `BuildFaceSwap` — predictor (`predictor.*`), `EncoderModulation.*`, `DecoderModulation.*`,
    shared `final.*` and `mask.*`; `.identity_params(emb, fmap)` returns the 18 per-identity
    tensors the official "update once" step writes into the IDN.
  * `PaddleIDN` — the per-frame network, run from a `BuildFaceSwap` plus those 18 tensors.
  * `ArcFaceIRSE` — IR-SE ResNet (`layers=[3,4,23,3]` is IR-SE-101); `.forward(x112)` returns
    (raw embedding, 512x7x7 feature map); `identity_from_224` adds the official preprocessing.

Importing this module imports paddle; nothing outside tests/ does.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

# ---- the spec's facts -------------------------------------------------------------------
IDN_SLOPE = 0.1            # LeakyReLU(0.1) everywhere in the per-frame network
PRED_SLOPE = 0.1           # LeakyReLU in the weight predictor (spec: "LeakyReLU"; see README)
MOD_EPS = 1e-16            # demodulation eps
BN_EPS = 1e-5              # Paddle BatchNorm default
ENC_CH = (3, 32, 64, 128, 256, 512)
DEC_IN = (512, 512, 256, 128)
DEC_OUT = (256, 128, 64, 32)
MASK_CH = (512, 128, 64, 32, 8, 2)
PRED_ENC_CH = (512, 256, 128, 64, 32, 3)      # predictor encoder chain; kernels used reversed
PRED_DEC_CH = (512, 512, 512, 256, 128)       # predictor decoder chain
# ---- choices the spec leaves open (kept in one place) --------------------------------------
SKIP_FIRST = False         # decoder concat: [decoder output, encoder skip] along channels
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def up2(x):
    """Bilinear x2 with align_corners=True (every upsample of the per-frame net)."""
    return F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)


class Up2(nn.Layer):
    def forward(self, x):
        return up2(x)


# ---- BuildFaceSwap (MobileFaceSwap_224.pdparams) ----------------------------------------
class ConvBlock(nn.Layer):
    """conv3x3 -> BN -> LeakyReLU gives the next feature; `weight` (conv3x3) of it is the kernel."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2D(cin, cout, 3, padding=1)
        self.norm = nn.BatchNorm2D(cout)
        self.weight = nn.Conv2D(cout, cout, 3, padding=1)

    def forward(self, x):
        x = F.leaky_relu(self.norm(self.conv(x)), PRED_SLOPE)
        return x, self.weight(x)


class WeightPredictor(nn.Layer):
    def __init__(self):
        super().__init__()
        self.first = nn.Conv2D(512, 512, 4)              # 7x7 -> 4x4
        self.norm = nn.BatchNorm2D(512)
        self.first_decoder = nn.Conv2D(512, 512, 2)      # 4x4 -> 3x3
        self.decoder_norm = nn.BatchNorm2D(512)
        self.encoder = nn.LayerList(
            [ConvBlock(a, b) for a, b in zip(PRED_ENC_CH[:-1], PRED_ENC_CH[1:])])
        self.decoder = nn.LayerList(
            [ConvBlock(a, b) for a, b in zip(PRED_DEC_CH[:-1], PRED_DEC_CH[1:])])

    def forward(self, fmap) -> Tuple[List, List]:
        x = F.leaky_relu(self.norm(self.first(fmap)), PRED_SLOPE)
        enc = []
        h = x
        for blk in self.encoder:
            h, k = blk(h)
            enc.append(k)
        enc = enc[::-1]                                  # channels 3, 32, 64, 128, 256
        h = F.leaky_relu(self.decoder_norm(self.first_decoder(x)), PRED_SLOPE)
        dec = []
        for blk in self.decoder:
            h, k = blk(h)
            dec.append(k)                                # channels 512, 512, 256, 128
        return enc, dec


class Modulation(nn.Layer):
    """StyleGAN2-style modulated + demodulated 1x1 weight from the identity embedding."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.style = nn.Linear(512, cin)                 # Paddle weight layout [512, cin]
        self.weight = self.create_parameter([cout, cin, 1, 1])

    def forward(self, emb):
        s = self.style(emb)                              # [B, cin]
        w = self.weight.unsqueeze(0) * (1 + s.reshape([s.shape[0], 1, -1, 1, 1]))
        d = paddle.rsqrt((w * w).sum(axis=[2, 3, 4], keepdim=True) + MOD_EPS)
        return w * d                                     # [B, cout, cin, 1, 1]


def _mask_stage(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(Up2(), nn.Conv2D(cin, cin, 3, padding=1, groups=cin),
                         nn.Conv2D(cin, cout, 1), nn.BatchNorm2D(cout), nn.LeakyReLU(IDN_SLOPE))


class BuildFaceSwap(nn.Layer):
    def __init__(self):
        super().__init__()
        self.predictor = WeightPredictor()
        self.EncoderModulation = nn.LayerList(
            [Modulation(a, b) for a, b in zip(ENC_CH[:-1], ENC_CH[1:])])
        self.DecoderModulation = nn.LayerList(
            [Modulation(a, b) for a, b in zip(DEC_IN, DEC_OUT)])
        self.final = nn.Sequential(
            Up2(), nn.Conv2D(32, 8, 1), nn.BatchNorm2D(8), nn.LeakyReLU(IDN_SLOPE),
            nn.Conv2D(8, 3, 3, padding=1), nn.BatchNorm2D(3), nn.LeakyReLU(IDN_SLOPE),
            nn.Conv2D(3, 3, 3, padding=1), nn.Tanh())
        self.mask = nn.Sequential(
            *[_mask_stage(a, b) for a, b in zip(MASK_CH[:-1], MASK_CH[1:])],
            nn.Conv2D(2, 1, 3, padding=1), nn.Sigmoid())

    def identity_params(self, emb, fmap) -> List[paddle.Tensor]:
        """The 18 per-identity tensors for batch item 0, in the order
        enc_dw_0..4, enc_pw_0..4, dec_dw_0..3, dec_pw_0..3."""
        enc, dec = self.predictor(fmap)
        enc_dw = [k[0].unsqueeze(1) for k in enc]        # [C, 1, 4, 4]
        dec_dw = [k[0].unsqueeze(1) for k in dec]        # [C, 1, 3, 3]
        enc_pw = [m(emb)[0] for m in self.EncoderModulation]
        dec_pw = [m(emb)[0] for m in self.DecoderModulation]
        return enc_dw + enc_pw + dec_dw + dec_pw


class PaddleIDN(nn.Layer):
    """The per-frame network with the per-identity convs as functional weights (biases zero)."""

    def __init__(self, fs: BuildFaceSwap, params: Sequence[paddle.Tensor]):
        super().__init__()
        self.fs = fs
        p = list(params)
        self.enc_dw, self.enc_pw, self.dec_dw, self.dec_pw = p[0:5], p[5:10], p[10:14], p[14:18]

    def forward(self, img):
        x = (img - 0.5) / 0.5
        skips = []
        for dw, pw in zip(self.enc_dw, self.enc_pw):
            x = F.conv2d(x, dw, stride=2, padding=1, groups=dw.shape[0])
            x = F.leaky_relu(F.conv2d(x, pw), IDN_SLOPE)
            skips.append(x)
        bottleneck = x
        for i, (dw, pw) in enumerate(zip(self.dec_dw, self.dec_pw)):
            x = up2(x)
            x = F.conv2d(x, dw, padding=1, groups=dw.shape[0])
            x = F.leaky_relu(F.conv2d(x, pw), IDN_SLOPE)
            if i < 3:
                s = skips[3 - i]
                x = paddle.concat([s, x] if SKIP_FIRST else [x, s], axis=1)
        out = (1 + self.fs.final(x)) / 2
        mask = self.fs.mask(bottleneck.detach())
        return out * mask + (1 - mask) * img, mask


# ---- arcface.pdparams: IR-SE ResNet ---------------------------------------------------------
class SEBlock(nn.Layer):
    def __init__(self, c: int, reduction: int = 16):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(c, c // reduction), nn.PReLU(),
                                nn.Linear(c // reduction, c), nn.Sigmoid())

    def forward(self, x):
        y = self.fc(x.mean(axis=[2, 3]))
        return x * y.unsqueeze([2, 3])


class IRBlock(nn.Layer):
    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None):
        super().__init__()
        self.bn0 = nn.BatchNorm2D(inplanes)
        self.conv1 = nn.Conv2D(inplanes, inplanes, 3, padding=1, bias_attr=False)
        self.bn1 = nn.BatchNorm2D(inplanes)
        self.prelu = nn.PReLU()
        self.conv2 = nn.Conv2D(inplanes, planes, 3, stride=stride, padding=1, bias_attr=False)
        self.bn2 = nn.BatchNorm2D(planes)
        self.se = SEBlock(planes)
        self.downsample = downsample

    def forward(self, x):
        out = self.prelu(self.bn1(self.conv1(self.bn0(x))))
        out = self.se(self.bn2(self.conv2(out)))
        res = x if self.downsample is None else self.downsample(x)
        return self.prelu(out + res)                     # the block's one PReLU, used twice


class ArcFaceIRSE(nn.Layer):
    def __init__(self, layers: Sequence[int] = (3, 4, 23, 3)):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2D(3, 64, 3, stride=1, bias_attr=False)     # no padding: 112 -> 110
        self.bn1 = nn.BatchNorm2D(64)
        self.prelu = nn.PReLU()
        self.maxpool = nn.MaxPool2D(2, 2)                                 # 110 -> 55
        self.layer1 = self._make_layer(64, layers[0], 1)
        self.layer2 = self._make_layer(128, layers[1], 2)
        self.layer3 = self._make_layer(256, layers[2], 2)
        self.layer4 = self._make_layer(512, layers[3], 2)
        self.bn2 = nn.BatchNorm2D(512)
        self.dropout = nn.Dropout()
        self.fc = nn.Linear(512 * 7 * 7, 512)
        self.bn3 = nn.BatchNorm1D(512)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        ds = None
        if stride != 1 or self.inplanes != planes:
            ds = nn.Sequential(nn.Conv2D(self.inplanes, planes, 1, stride=stride, bias_attr=False),
                               nn.BatchNorm2D(planes))
        mods = [IRBlock(self.inplanes, planes, stride, ds)]
        self.inplanes = planes
        mods += [IRBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*mods)

    def forward(self, x112):
        x = self.maxpool(self.prelu(self.bn1(self.conv1(x112))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        fmap = self.bn2(x)
        emb = self.bn3(self.fc(self.dropout(fmap).flatten(1)))
        return emb, fmap


def identity_from_224(arc: ArcFaceIRSE, face_224_rgb01: np.ndarray):
    """Paddle run of the official identity path: (L2-normalised embedding, feature map)."""
    x112 = F.interpolate(paddle.to_tensor(face_224_rgb01), size=[112, 112], mode="bilinear",
                         align_corners=False, align_mode=0)
    mean = paddle.to_tensor(np.asarray(IMAGENET_MEAN, np.float32).reshape(1, 3, 1, 1))
    std = paddle.to_tensor(np.asarray(IMAGENET_STD, np.float32).reshape(1, 3, 1, 1))
    x = (x112 - mean) / std
    emb, fmap = arc(x)
    return F.normalize(emb, axis=1), fmap


# ---- random weights with the official layout ------------------------------------------------
def randomize(layer: nn.Layer, seed: int, bn_var_range=(0.05, 2.0)) -> None:
    """Fill every parameter and BN running stat with seeded random values: conv/linear
    weights with a fan-in scale (activations stay O(1) through deep nets), biases, BN
    affine and running mean/variance all non-trivial so that BN eps, biases and the
    Linear transpose all matter."""
    rng = np.random.default_rng(seed)
    sd = layer.state_dict()
    new = {}
    for k, v in sd.items():
        shape = list(v.shape)
        leaf = k.rsplit(".", 1)[-1]
        if leaf == "_variance":
            a = rng.uniform(*bn_var_range, size=shape)
        elif leaf == "_mean":
            a = rng.normal(0, 0.2, size=shape)
        elif len(shape) >= 2:
            fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
            a = rng.normal(0, 1.0 / np.sqrt(fan_in), size=shape)
        elif leaf == "weight" and shape == [1]:                         # PReLU
            a = rng.uniform(0.05, 0.4, size=shape)
        elif leaf == "weight":                                          # BN gamma
            a = rng.uniform(0.5, 1.5, size=shape)
        else:                                                           # biases, BN beta
            a = rng.normal(0, 0.1, size=shape)
        new[k] = paddle.to_tensor(np.asarray(a, np.float32))
    layer.set_state_dict(new)


def scale_predicted_kernels(fs: BuildFaceSwap) -> None:
    """Scale the kernel-predicting convs (`predictor.*.weight`) by 1/k so a predicted k x k
    depthwise kernel keeps activations O(1), as trained ones do; with O(1) kernels the
    random IDN grows ~k-fold per layer and saturates tanh/sigmoid, which hides errors."""
    for chain, k in ((fs.predictor.encoder, 4), (fs.predictor.decoder, 3)):
        for blk in chain:
            for p in (blk.weight.weight, blk.weight.bias):
                p.set_value(p.numpy() / k)


def calibrate_batchnorms(layer: nn.Layer, run, seed: int, log10_var=(-6.0, 0.0)) -> None:
    """Give every BatchNorm in `layer` running statistics that are far from trivial yet keep
    activations O(1): during one call of `run()` each BN, just before it runs, gets
      _variance  log-uniform in 10**log10_var (many channels near or below eps=1e-5, so
                 eps changes the output: a converter with the wrong eps fails parity),
      weight     U(0.5, 1.5) * sqrt(_variance + eps) / (the channel's actual std),
      _mean      the channel's actual mean + 0.3 * std * N(0, 1).
    Works because eval-mode BN reads its running stats when it runs."""
    rng = np.random.default_rng(seed)
    norms = [m for m in layer.sublayers(include_self=True)
             if isinstance(m, (nn.BatchNorm1D, nn.BatchNorm2D))]

    def hook(bn, inputs):
        x = inputs[0].numpy().astype(np.float64)
        axes = tuple(i for i in range(x.ndim) if i != 1)
        mean, std = x.mean(axis=axes), np.maximum(x.std(axis=axes), 1e-3)
        c = mean.shape[0]
        var = 10.0 ** rng.uniform(*log10_var, size=c)
        bn._variance.set_value(var.astype(np.float32))
        bn._mean.set_value((mean + 0.3 * std * rng.normal(size=c)).astype(np.float32))
        bn.weight.set_value((rng.uniform(0.5, 1.5, size=c) * np.sqrt(var + BN_EPS) / std).astype(np.float32))

    handles = [m.register_forward_pre_hook(hook) for m in norms]
    try:
        with paddle.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()


def save_pdparams(layer: nn.Layer, path: str) -> None:
    paddle.save(layer.state_dict(), path)


def plant_modulation_eps_probe(fs: BuildFaceSwap, seed: int = 0) -> None:
    """EncoderModulation.0.weight: output channel 0 all zero (demodulation must give 0, not
    NaN) and channel 1 with |w| ~ 1e-9, where sum(w^2) ~ 1e-18 << 1e-16 so the result is
    ~0.1 x the unit-norm row: its value is set by the eps."""
    rng = np.random.default_rng(seed)
    w = fs.EncoderModulation[0].weight.numpy().copy()
    w[0] = 0.0
    w[1] = 1e-9 * rng.choice([-1.0, 1.0], size=w[1].shape) * rng.uniform(0.5, 1.5, size=w[1].shape)
    fs.EncoderModulation[0].weight.set_value(w.astype(np.float32))


def smooth_images(n: int, seed: int, size: int = 224, coarse: int = 8) -> np.ndarray:
    """Image-like [0,1] RGB batches: low-frequency colour fields plus a little pixel noise."""
    from .numpy_reference import resize_bilinear  # numpy only
    rng = np.random.default_rng(seed)
    x = resize_bilinear(rng.uniform(0, 1, (n, 3, coarse, coarse)), (size, size), align_corners=True)
    x = x + rng.normal(0, 0.03, x.shape)
    return np.clip(x, 0, 1).astype(np.float32)


def build_random_official(arcface_layers: Sequence[int] = (1, 1, 1, 1), seed: int = 0
                          ) -> Tuple[BuildFaceSwap, ArcFaceIRSE]:
    """Seeded random BuildFaceSwap + ArcFaceIRSE in eval mode with O(1) activations on
    image-like inputs (see calibrate_batchnorms) and the modulation-eps probe planted."""
    paddle.seed(seed)
    fs, arc = BuildFaceSwap(), ArcFaceIRSE(arcface_layers)
    fs.eval()
    arc.eval()
    randomize(fs, seed + 1)
    randomize(arc, seed + 2)
    scale_predicted_kernels(fs)
    plant_modulation_eps_probe(fs, seed + 3)
    faces = smooth_images(4, seed + 4)
    calibrate_batchnorms(arc, lambda: identity_from_224(arc, faces), seed + 5)
    with paddle.no_grad():
        emb, fmap = identity_from_224(arc, faces)
    calibrate_batchnorms(fs.predictor, lambda: fs.identity_params(emb, fmap), seed + 6)
    with paddle.no_grad():
        params = fs.identity_params(emb, fmap)
    targets = paddle.to_tensor(smooth_images(2, seed + 7))
    calibrate_batchnorms(fs, lambda: PaddleIDN(fs, params)(targets), seed + 8)
    return fs, arc
