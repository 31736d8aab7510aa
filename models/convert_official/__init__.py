"""Official MobileFaceSwap checkpoint (.pdparams) -> our ONNX files. See README.md."""
