"""ONNX export of trained models: a torch module or a scikit-learn estimator to model.onnx,
checked against the original."""
