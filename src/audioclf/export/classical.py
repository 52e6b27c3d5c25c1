"""Export a fitted classical model to ONNX (feature vector in, probabilities out) and
prove the export computes the same probabilities as scikit-learn.

scikit-learn pipelines (scaler, logistic regression, SVM, random forest) go through
sklearn-onnx, the converter the scikit-learn and ONNX projects maintain. Our
:class:`~audioclf.models.fusion.LateFusion` is not a scikit-learn class, so its graph is
put together here from its experts' converted graphs: each expert reads its block of
columns (``Slice``), and their probabilities are combined as ``LateFusion`` does
(renormalised geometric mean, or arithmetic mean). The graph has one input,
``features`` ``(batch, dim)`` float32, and the outputs ``label`` (int64 class index) and
``probabilities`` ``(batch, n_classes)`` in the order of the run's labels.json.
The features themselves (openSMILE, librosa statistics, the speech embedding) are
computed outside the graph, by the functions training used (audioclf.features.inputs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from audioclf.export.parity import PARITY_TOLERANCE, ExportError, check_parity
from audioclf.formats.atomic import write_bytes
from audioclf.models.fusion import LateFusion
from audioclf.models.multiview import MultiView
from audioclf.probabilities import FLOOR

OPSET = 17
ML_OPSET = 3  # the ai.onnx.ml domain (LinearClassifier, SVMClassifier, TreeEnsemble…)
INPUT = "features"


def _convert(estimator: Any, n_features: int) -> Any:
    """A scikit-learn estimator as an ONNX ModelProto (input ``features``)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    if isinstance(estimator, LateFusion):
        return _late_fusion(estimator, n_features)
    if isinstance(estimator, MultiView):
        return _multiview(estimator, n_features)
    try:
        return to_onnx(
            estimator,
            initial_types=[(INPUT, FloatTensorType([None, n_features]))],
            options={"zipmap": False},
            target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
        )
    except Exception as err:  # sklearn-onnx raises several kinds for what it cannot convert
        raise ExportError(f"{type(estimator).__name__} cannot be converted to ONNX: {err}") from err


def _late_fusion(fusion: Any, n_features: int) -> Any:
    """One graph for a fitted LateFusion: a sliced input per expert, then the combination."""
    from onnx import TensorProto, checker, compose, helper, numpy_helper

    widths = [width for width, _ in fusion.experts]
    if sum(widths) != n_features:
        raise ExportError(f"LateFusion blocks {widths} do not cover {n_features} features")
    nodes: list[Any] = []
    constants: dict[str, np.ndarray] = {
        "floor": np.array(FLOOR, np.float32),  # as LateFusion clips before the log
        "one": np.array(1.0, np.float32),
        "n_experts": np.array(len(widths), np.float32),
        "class_axis": np.array([1], np.int64),
    }
    initializers: list[Any] = []
    opsets: dict[str, int] = {}
    parts: list[str] = []
    start = 0
    for i, (width, expert) in enumerate(zip(widths, fusion.fitted_, strict=True)):
        sub = compose.add_prefix(_convert(expert, width), f"expert{i}_")
        for item in sub.opset_import:
            opsets[item.domain] = max(opsets.get(item.domain, 0), item.version)
        constants |= {
            f"expert{i}_start": np.array([start], np.int64),
            f"expert{i}_end": np.array([start + width], np.int64),
        }
        nodes.append(
            helper.make_node(
                "Slice",
                [INPUT, f"expert{i}_start", f"expert{i}_end", "class_axis"],
                [sub.graph.input[0].name],
            )
        )
        nodes.extend(sub.graph.node)
        initializers.extend(sub.graph.initializer)
        probs = sub.graph.output[1].name
        if fusion.combine == "mean":
            parts.append(probs)
        else:
            nodes.append(helper.make_node("Clip", [probs, "floor", "one"], [f"expert{i}_clip"]))
            nodes.append(helper.make_node("Log", [f"expert{i}_clip"], [f"expert{i}_log"]))
            parts.append(f"expert{i}_log")
        start += width
    nodes.append(helper.make_node("Sum", parts, ["total"]))
    nodes.append(helper.make_node("Div", ["total", "n_experts"], ["average"]))
    if fusion.combine == "mean":
        nodes.append(helper.make_node("Identity", ["average"], ["probabilities"]))
        nodes.append(helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0))
    else:  # exp(mean log p), renormalised; the max is subtracted first, as in LateFusion
        nodes.extend(_renormalised_exp("average"))
    used = {name for node in nodes for name in node.input}
    initializers += [numpy_helper.from_array(v, k) for k, v in constants.items() if k in used]
    graph = helper.make_graph(
        nodes,
        "late_fusion",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, n_features])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info(
                "probabilities", TensorProto.FLOAT, [None, len(fusion.classes_)]
            ),
        ],
        initializers,
    )
    opset_imports = [helper.make_opsetid(domain, version) for domain, version in opsets.items()]
    model = helper.make_model(graph, opset_imports=opset_imports)
    checker.check_model(model)
    return model


def _multiview(wrapper: Any, n_features: int) -> Any:
    """One graph for a fitted MultiView: the row split into its views (a Reshape to
    ``(batch × views, dim)``), the wrapped model's graph, and the views' probabilities
    averaged, as ``MultiView.predict_proba`` does. The row holds the views the model
    scores (``n_scored``: all of them, or the clip itself alone)."""
    from onnx import TensorProto, checker, compose, helper, numpy_helper

    views = int(wrapper.n_scored)
    if n_features % views:
        raise ExportError(f"{n_features} features do not split into {views} views")
    dim = n_features // views
    inner = compose.add_prefix(_convert(wrapper.estimator_, dim), "view_")
    n_classes = len(wrapper.classes_)
    constants: dict[str, np.ndarray] = {
        "view_rows": np.array([-1, dim], np.int64),
        "by_clip": np.array([-1, views, n_classes], np.int64),
    }
    nodes = [
        helper.make_node("Reshape", [INPUT, "view_rows"], [inner.graph.input[0].name]),
        *inner.graph.node,
        helper.make_node("Reshape", [inner.graph.output[1].name, "by_clip"], ["per_view"]),
        helper.make_node("ReduceMean", ["per_view"], ["probabilities"], axes=[1], keepdims=0),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]
    initializers = [
        *inner.graph.initializer,
        *(numpy_helper.from_array(v, k) for k, v in constants.items()),
    ]
    graph = helper.make_graph(
        nodes,
        "multiview",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, [None, n_features])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, n_classes]),
        ],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=list(inner.opset_import))
    checker.check_model(model)
    return model


def _renormalised_exp(logs: str) -> list[Any]:
    """Nodes from mean log-probabilities ``logs`` ``(batch, classes)`` to ``probabilities``
    (their exponential renormalised, the maximum subtracted first) and ``label``."""
    from onnx import helper

    return [
        helper.make_node("ReduceMax", [logs], ["top"], axes=[1], keepdims=1),
        helper.make_node("Sub", [logs, "top"], ["shifted"]),
        helper.make_node("Exp", ["shifted"], ["unnormalised"]),
        helper.make_node("ReduceSum", ["unnormalised", "class_axis"], ["mass"]),
        helper.make_node("Div", ["unnormalised", "mass"], ["probabilities"]),
        helper.make_node("ArgMax", ["probabilities"], ["label"], axis=1, keepdims=0),
    ]


def export_classical_onnx(estimator: Any, path: str | Path, n_features: int) -> Path:
    """Write a fitted classical estimator as ONNX. Its probability columns must be the
    run's classes in order (``classes_ == 0..K-1``): a model that never saw a class
    would otherwise output fewer columns than labels.json has."""
    path = Path(path)
    classes = np.asarray(getattr(estimator, "classes_", []))
    if not np.array_equal(classes, np.arange(len(classes))):
        raise ExportError(
            f"the model's classes {classes.tolist()} are not 0..K-1 (a class missing from "
            "training); its probabilities would not line up with labels.json"
        )
    model = _convert(estimator, n_features)
    write_bytes(path, model.SerializeToString())
    return path


def verify_classical_onnx(
    estimator: Any, path: str | Path, x: np.ndarray, *, tolerance: float = PARITY_TOLERANCE
) -> float:
    """Largest probability difference between scikit-learn and ONNX Runtime on the rows
    ``x`` (real feature vectors: a scaler's statistics make random input meaningless);
    raises :class:`ExportError` above ``tolerance``."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rows = np.asarray(x, dtype=np.float32)
    expected = estimator.predict_proba(rows)
    got = session.run(["probabilities"], {INPUT: rows})[0]
    worst = float(np.abs(np.asarray(expected, dtype=np.float64) - got).max())
    return check_parity(worst, path, "scikit-learn", tolerance)
