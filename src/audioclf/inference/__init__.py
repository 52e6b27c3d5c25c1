"""Inference: ONNX export and the Predictor used by the CLI and the server."""
