"""An independent numpy (float64) forward pass of the official MobileFaceSwap modules, read
straight from official-layout state dicts (the dicts `convert.load_pdparams` returns).

Independent of both torch and Paddle: its own conv, bilinear resize, BatchNorm and
modulation, written from ../shared/docs/mobilefaceswap.md (from the repo root). Every detail a converter can get
wrong is a keyword argument (BatchNorm eps, LeakyReLU slope, align_corners, demodulation eps,
decoder concat order), so the tests can also run deliberately *wrong* variants and check
that the test data tells them apart from the right one.

  conditioner_forward(sd, emb, fmap) -> 18 per-identity tensors (identity 0)
  idn_forward(sd, pack, img) -> (result, mask)
  arcface_forward(sd, x112) -> (raw embedding, 512x7x7 feature map)
  identity_forward(sd, face_224_rgb01) -> (L2-normalised embedding, feature map)
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Array = np.ndarray
SD = Dict[str, Array]

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406]).reshape(1, 3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225]).reshape(1, 3, 1, 1)


def _f64(a) -> Array:
    return np.asarray(a, dtype=np.float64)


# ---- primitives ----------------------------------------------------------------------------
def conv2d(x: Array, w: Array, b: Optional[Array] = None, stride: int = 1, pad: int = 0,
           groups: int = 1) -> Array:
    """NCHW conv, weight [O, C/groups, kh, kw], cross-correlation as in torch/Paddle."""
    x, w = _f64(x), _f64(w)
    n, c, _, _ = x.shape
    o, cg, kh, kw = w.shape
    assert c == cg * groups and o % groups == 0, (x.shape, w.shape, groups)
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]  # N C Ho Wo kh kw
    ho, wo = win.shape[2], win.shape[3]
    if groups == 1:
        out = np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3]))                  # N Ho Wo O
        out = out.transpose(0, 3, 1, 2)
    elif groups == c and o == c:                                                  # depthwise
        out = np.einsum("nchwij,cij->nchw", win, w[:, 0])
    else:
        win = win.reshape(n, groups, cg, ho, wo, kh, kw)
        wg = w.reshape(groups, o // groups, cg, kh, kw)
        out = np.einsum("ngchwij,gocij->ngohw", win, wg).reshape(n, o, ho, wo)
    if b is not None:
        out = out + _f64(b).reshape(1, -1, 1, 1)
    return out


def batchnorm(x: Array, sd: SD, prefix: str, eps: float) -> Array:
    shape = (1, -1) + (1,) * (x.ndim - 2)
    g, b = _f64(sd[prefix + ".weight"]).reshape(shape), _f64(sd[prefix + ".bias"]).reshape(shape)
    m, v = _f64(sd[prefix + "._mean"]).reshape(shape), _f64(sd[prefix + "._variance"]).reshape(shape)
    return (x - m) / np.sqrt(v + eps) * g + b


def leaky(x: Array, slope: float) -> Array:
    return np.where(x >= 0, x, slope * x)


def prelu(x: Array, a: Array) -> Array:
    a = _f64(a).reshape((1, -1) + (1,) * (x.ndim - 2)) if np.size(a) > 1 else float(np.ravel(a)[0])
    return np.where(x >= 0, x, a * x)


def sigmoid(x: Array) -> Array:
    return 1.0 / (1.0 + np.exp(-x))


def _interp_matrix(n_in: int, n_out: int, align_corners: bool) -> Array:
    i = np.arange(n_out, dtype=np.float64)
    if align_corners:
        src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros_like(i)
    else:
        src = np.clip((i + 0.5) * n_in / n_out - 0.5, 0, None)
    i0 = np.minimum(np.floor(src).astype(int), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    t = src - i0
    m = np.zeros((n_out, n_in))
    m[np.arange(n_out), i0] += 1 - t
    m[np.arange(n_out), i1] += t
    return m


def resize_bilinear(x: Array, size: Tuple[int, int], align_corners: bool) -> Array:
    mh = _interp_matrix(x.shape[2], size[0], align_corners)
    mw = _interp_matrix(x.shape[3], size[1], align_corners)
    y = np.tensordot(_f64(x), mw, axes=([3], [1]))                   # N C H Q
    return np.tensordot(mh, y, axes=([1], [2])).transpose(1, 2, 0, 3)  # N C P Q


def up2(x: Array, align_corners: bool = True) -> Array:
    return resize_bilinear(x, (2 * x.shape[2], 2 * x.shape[3]), align_corners)


def linear_paddle(x: Array, sd: SD, prefix: str) -> Array:
    """Paddle Linear: weight is [in, out]."""
    return _f64(x) @ _f64(sd[prefix + ".weight"]) + _f64(sd[prefix + ".bias"])


def _bias(sd: SD, key: str) -> Optional[Array]:
    return sd.get(key)


# ---- the IIM ------------------------------------------------------------------------------
def modulate(w: Array, s: Array, eps: float = 1e-16) -> Array:
    """W [O, C, 1, 1], s [C] -> W'' = W(1+s) / sqrt(sum_C (W(1+s))^2 + eps)."""
    wm = _f64(w) * (1.0 + _f64(s)).reshape(1, -1, 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):   # eps=0 variants give NaN on zero rows
        return wm / np.sqrt((wm ** 2).sum(axis=(1, 2, 3), keepdims=True) + eps)


def conditioner_forward(sd: SD, emb: Array, fmap: Array, *, slope: float = 0.1,
                        bn_eps: float = 1e-5, mod_eps: float = 1e-16) -> List[Array]:
    """The 18 per-identity tensors for identity 0: enc_dw_0..4, enc_pw_0..4, dec_dw_0..3,
    dec_pw_0..3. `emb` is the (L2-normalised) embedding [B,512], `fmap` [B,512,7,7]."""
    fmap = _f64(fmap)[:1]
    emb = _f64(emb)[:1]

    def cbr(x, conv, norm, pad):
        y = conv2d(x, sd[conv + ".weight"], _bias(sd, conv + ".bias"), pad=pad)
        return leaky(batchnorm(y, sd, norm, bn_eps), slope)

    z = cbr(fmap, "predictor.first", "predictor.norm", 0)
    enc, h = [], z
    for i in range(5):
        h = cbr(h, f"predictor.encoder.{i}.conv", f"predictor.encoder.{i}.norm", 1)
        p = f"predictor.encoder.{i}.weight"
        enc.append(conv2d(h, sd[p + ".weight"], _bias(sd, p + ".bias"), pad=1)[0][:, None])
    enc = enc[::-1]
    dec, h = [], cbr(z, "predictor.first_decoder", "predictor.decoder_norm", 0)
    for i in range(4):
        h = cbr(h, f"predictor.decoder.{i}.conv", f"predictor.decoder.{i}.norm", 1)
        p = f"predictor.decoder.{i}.weight"
        dec.append(conv2d(h, sd[p + ".weight"], _bias(sd, p + ".bias"), pad=1)[0][:, None])

    def mods(kind, n):
        return [modulate(sd[f"{kind}.{i}.weight"], linear_paddle(emb, sd, f"{kind}.{i}.style")[0],
                         mod_eps) for i in range(n)]

    return enc + mods("EncoderModulation", 5) + dec + mods("DecoderModulation", 4)


# ---- the IDN ------------------------------------------------------------------------------
def idn_forward(sd: SD, pack: Sequence[Array], img: Array, *, slope: float = 0.1,
                bn_eps: float = 1e-5, align_corners: bool = True,
                skip_first: bool = False) -> Tuple[Array, Array]:
    """Per-frame network: `sd` gives the shared final.* / mask.* weights, `pack` the 18
    per-identity tensors; encoder/decoder conv biases are zero (official inference)."""
    img = _f64(img)
    enc_dw, enc_pw, dec_dw, dec_pw = pack[0:5], pack[5:10], pack[10:14], pack[14:18]
    x = (img - 0.5) / 0.5
    skips = []
    for dw, pw in zip(enc_dw, enc_pw):
        x = conv2d(x, dw, stride=2, pad=1, groups=x.shape[1])
        x = leaky(conv2d(x, pw), slope)
        skips.append(x)
    bottleneck = x
    for i, (dw, pw) in enumerate(zip(dec_dw, dec_pw)):
        x = up2(x, align_corners)
        x = conv2d(x, dw, pad=1, groups=x.shape[1])
        x = leaky(conv2d(x, pw), slope)
        if i < 3:
            s = skips[3 - i]
            x = np.concatenate([s, x] if skip_first else [x, s], axis=1)

    def c(x, key, pad, groups=1):
        return conv2d(x, sd[key + ".weight"], _bias(sd, key + ".bias"), pad=pad, groups=groups)

    y = up2(x, align_corners)
    y = leaky(batchnorm(c(y, "final.1", 0), sd, "final.2", bn_eps), slope)
    y = leaky(batchnorm(c(y, "final.4", 1), sd, "final.5", bn_eps), slope)
    out = (1 + np.tanh(c(y, "final.7", 1))) / 2
    m = bottleneck
    for i in range(5):
        m = up2(m, align_corners)
        m = c(m, f"mask.{i}.1", 1, groups=m.shape[1])
        m = leaky(batchnorm(c(m, f"mask.{i}.2", 0), sd, f"mask.{i}.3", bn_eps), slope)
    mask = sigmoid(c(m, "mask.5", 1))
    return out * mask + (1 - mask) * img, mask


# ---- IR-SE ArcFace ------------------------------------------------------------------------
def arcface_layers(sd: SD) -> List[int]:
    """Blocks per stage, read from the keys (IR-SE-101: [3, 4, 23, 3])."""
    out = []
    for s in range(1, 5):
        idx = {int(k.split(".")[1]) for k in sd if k.startswith(f"layer{s}.")}
        out.append(max(idx) + 1)
    return out


def _irblock(sd: SD, p: str, x: Array, stride: int, bn_eps: float) -> Array:
    a = sd[p + ".prelu.weight"]
    out = batchnorm(x, sd, p + ".bn0", bn_eps)
    out = prelu(batchnorm(conv2d(out, sd[p + ".conv1.weight"], pad=1), sd, p + ".bn1", bn_eps), a)
    out = batchnorm(conv2d(out, sd[p + ".conv2.weight"], stride=stride, pad=1), sd, p + ".bn2", bn_eps)
    y = out.mean(axis=(2, 3))
    y = prelu(linear_paddle(y, sd, p + ".se.fc.0"), sd[p + ".se.fc.1.weight"])
    y = sigmoid(linear_paddle(y, sd, p + ".se.fc.2"))
    out = out * y[:, :, None, None]
    if p + ".downsample.0.weight" in sd:
        res = batchnorm(conv2d(x, sd[p + ".downsample.0.weight"], stride=stride), sd,
                        p + ".downsample.1", bn_eps)
    else:
        res = x
    return prelu(out + res, a)


def arcface_forward(sd: SD, x112: Array, *, bn_eps: float = 1e-5) -> Tuple[Array, Array]:
    x = conv2d(_f64(x112), sd["conv1.weight"])                       # 112 -> 110, no padding
    x = prelu(batchnorm(x, sd, "bn1", bn_eps), sd["prelu.weight"])
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))        # maxpool 2x2: 110 -> 55
    for s, blocks in enumerate(arcface_layers(sd), start=1):
        for b in range(blocks):
            x = _irblock(sd, f"layer{s}.{b}", x, 2 if (b == 0 and s > 1) else 1, bn_eps)
    fmap = batchnorm(x, sd, "bn2", bn_eps)
    emb = batchnorm(linear_paddle(fmap.reshape(n, -1), sd, "fc"), sd, "bn3", bn_eps)
    return emb, fmap


def preprocess_source(face_224_rgb01: Array) -> Array:
    """224 aligned RGB [0,1] -> 112 (bilinear, half-pixel), ImageNet mean/std. The official
    pipeline's BGR->RGB swap is already done: our input is RGB."""
    x = resize_bilinear(_f64(face_224_rgb01), (112, 112), align_corners=False)
    return (x - IMAGENET_MEAN) / IMAGENET_STD


def identity_forward(sd: SD, face_224_rgb01: Array, *, bn_eps: float = 1e-5) -> Tuple[Array, Array]:
    emb, fmap = arcface_forward(sd, preprocess_source(face_224_rgb01), bn_eps=bn_eps)
    return emb / np.linalg.norm(emb, axis=1, keepdims=True), fmap
