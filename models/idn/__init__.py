"""MobileFaceSwap's IDN (per-frame swap network) and IIM (per-identity weight
generator) in PyTorch, with ONNX export and a params/MACs counter. See README.md."""
from .config import IdnConfig
from .encoder import IdentityEncoder, RandomIdentityEncoder
from .iim import IdentityInjectionModule
from .network import IDENTITY_TENSOR_NAMES, IdentityAwareDynamicNetwork, identity_args, identity_tensor_shapes

__all__ = [
    "IDENTITY_TENSOR_NAMES",
    "IdentityAwareDynamicNetwork",
    "IdentityEncoder",
    "IdentityInjectionModule",
    "IdnConfig",
    "RandomIdentityEncoder",
    "identity_args",
    "identity_tensor_shapes",
]
