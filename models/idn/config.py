"""Variant switches for the IDN: the crop size and the optional guide channels."""
from dataclasses import dataclass

# Five stride-2 encoder blocks: the crop must halve cleanly five times.
ENCODER_STRIDE = 32


@dataclass(frozen=True)
class IdnConfig:
    """One code path serves every variant; only these two numbers change.

    crop: side of the aligned target crop. 224 is the paper's; 128 is the
        CPU-friendly variant (bottleneck 4×4 instead of 7×7, same weights).
    guide_channels: extra target-side input channels after the RGB ones
        (0 = the paper's target-only input; 4 = mesh-warped source RGB + warp mask).
    """

    crop: int = 224
    guide_channels: int = 0

    def __post_init__(self) -> None:
        if self.crop <= 0 or self.crop % ENCODER_STRIDE:
            raise ValueError(f"crop must be a positive multiple of {ENCODER_STRIDE}, got {self.crop}")
        if self.guide_channels < 0:
            raise ValueError(f"guide_channels must be >= 0, got {self.guide_channels}")

    @property
    def input_channels(self) -> int:
        return 3 + self.guide_channels

    @property
    def bottleneck_size(self) -> int:
        return self.crop // ENCODER_STRIDE
