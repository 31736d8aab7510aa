"""The chosen identity backbone: HSE-FaceRes MobileNet (as shipped in @vladmandic/human, MIT),
converted from TFJS by convert.py into `faceres.onnx` (fp16 weights + Cast, self-contained:
the torch module is rebuilt from the file's TFJS topology metadata + initializers).

Backbone contract (both torch and ONNX):
  input  [N,3,224,224] float RGB in 0..255 (NCHW; no mean/std: the graph takes raw pixels)
  output `embedding` [N,1024]  global average pool of the last block (>= 0, not normalised)
         `fmap`      [N,1024,7,7] last spatial feature map (ReLU6 output of conv_pw_13)
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

NPM_PACKAGE = "@vladmandic/human"
NPM_VERSION = "3.3.6"
NPM_TARBALL_SHA256 = "425e9c51dbbca0c8934362b170cb0d54c2529c11c654b3c03092b16e9d6ad3f7"
MODEL_JSON = "package/models/faceres.json"
MODEL_JSON_SHA256 = "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df"
MODEL_BIN = "package/models/faceres.bin"
MODEL_BIN_SHA256 = "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b"
LICENSE_IN_TARBALL = "package/LICENSE"

TFJS_OUTPUTS = ["global_pooling/Mean", "conv_pw_13_relu/clip_by_value"]
OUTPUT_NAMES = ["embedding", "fmap"]
INPUT_SIZE = 224
EMBED_DIM = 1024
FMAP_CHANNELS = 1024
ONNX_PATH = os.path.join(HERE, "faceres.onnx")


def load_faceres_torch(path: str = ONNX_PATH, trainable: bool = False):
    """torch nn.Module (eval mode, frozen unless trainable) -> (embedding [N,1024], fmap [N,1024,7,7])."""
    from .tfjs_graph import module_from_onnx

    m = module_from_onnx(path, TFJS_OUTPUTS, trainable=trainable)
    return m.eval()
