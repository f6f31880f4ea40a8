"""``check_sparse`` on tiny converted models: XNNPACK's rules, judged without TensorFlow."""

import json

import numpy as np
import pytest
from conftest import run_python

from sensing.errors import ModelError
from sensing.tflite.graph import BUILTIN_OPERATORS, read_graph
from sensing.tflite.sparse_check import check_sparse, format_report, platform_notes

pytestmark = pytest.mark.filterwarnings("ignore:Statistics for quantized inputs were expected:UserWarning")

INPUT_SHAPE = (32, 16, 3)
ZEROED = 0.85
"""Share of each 1x1 kernel's smallest-magnitude weights set to zero by hand."""


def _model(keras, *, channels: int = 3, same_stride2_depthwise: bool = False, pruned: bool = True):
    """A MobileNetV2-like network that XNNPACK can run sparsely unless told otherwise."""
    layers = keras.layers
    inputs = keras.Input(INPUT_SHAPE[:2] + (channels,))
    x = layers.ZeroPadding2D(1)(inputs)
    x = layers.Conv2D(8, 3, strides=2, padding="valid", activation="relu", name="stem")(x)
    x = layers.Conv2D(16, 1, activation="relu")(x)
    if same_stride2_depthwise:
        x = layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu", name="reduce")(x)
    else:
        x = layers.ZeroPadding2D(1)(x)
        x = layers.DepthwiseConv2D(3, strides=2, padding="valid", activation="relu", name="reduce")(x)
    x = layers.Conv2D(8, 1)(x)
    y = layers.Conv2D(16, 1, activation="relu")(x)
    y = layers.DepthwiseConv2D(3, padding="same", activation="relu")(y)
    y = layers.Conv2D(8, 1)(y)
    x = layers.Add()([x, y])
    x = layers.Conv2D(32, 1, activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    if pruned:
        for layer in model.layers:
            if isinstance(layer, layers.Conv2D) and layer.kernel_size == (1, 1):
                kernel, bias = layer.get_weights()
                flat = kernel.reshape(-1)
                flat[np.argsort(np.abs(flat))[: int(ZEROED * flat.size)]] = 0.0
                layer.set_weights([kernel, bias])
    return model


def _convert(tf, model, *, sparsity: bool = True, float16: bool = False, int8: bool = False) -> bytes:
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.EXPERIMENTAL_SPARSITY] if sparsity else []
    if float16 or int8:
        converter.optimizations.append(tf.lite.Optimize.DEFAULT)
    if float16:
        converter.target_spec.supported_types = [tf.float16]
    if int8:
        rng = np.random.default_rng(0)
        converter.representative_dataset = lambda: (
            [rng.random((1, *INPUT_SHAPE), dtype=np.float32)] for _ in range(4)
        )
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return converter.convert()


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> dict:
    """Paths of the converted variants, by name; built once (each conversion takes seconds)."""
    from training.tf_setup import keras, tf

    keras.utils.set_random_seed(0)
    sparse_model = _model(keras)
    files = {
        "sparse": _convert(tf, sparse_model),
        "dense": _convert(tf, sparse_model, sparsity=False),
        "one_channel": _convert(tf, _model(keras, channels=1)),
        "same_stride2": _convert(tf, _model(keras, same_stride2_depthwise=True)),
        "unpruned": _convert(tf, _model(keras, pruned=False)),
        "float16": _convert(tf, sparse_model, float16=True),
        "int8": _convert(tf, sparse_model, int8=True),
    }
    folder = tmp_path_factory.mktemp("sparse_models")
    paths = {}
    for name, data in files.items():
        paths[name] = folder / f"{name}.tflite"
        paths[name].write_bytes(data)
    return paths


def _one_by_one_count(path) -> int:
    graph = read_graph(path)
    return sum(
        1
        for op in graph.operators
        if op.name == "CONV_2D" and graph.tensors[op.inputs[1]].shape[1:3] == (1, 1)
    )


def test_pruned_sparse_model_is_accepted(models):
    report = check_sparse(models["sparse"])
    assert report.sparse_ready, report.reasons
    assert report.reasons == ()
    assert report.dtype == "float32"
    assert report.densify_ops == 5
    assert report.stem.startswith("op 1 CONV_2D")
    assert len(report.convs) == _one_by_one_count(models["sparse"]) == 5
    assert all(conv.zero_fraction >= 0.8 and conv.stored_sparse for conv in report.convs)
    assert report.zero_fraction > 2 / 3
    text = format_report(report)
    assert text.splitlines()[0] == f"XNNPACK will run {models['sparse']} sparsely"
    assert "sparse" in text.splitlines()[-1]
    values = json.loads(json.dumps(report.to_dict()))
    assert values["sparse_ready"] is True and len(values["convs"]) == 5


def test_same_weights_stored_dense_are_rejected_for_lack_of_densify(models):
    report = check_sparse(models["dense"])
    assert not report.sparse_ready
    assert report.densify_ops == 0
    assert len(report.reasons) == 1
    assert "DENSIFY" in report.reasons[0] and "EXPERIMENTAL_SPARSITY" in report.reasons[0]
    assert report.zero_fraction > 0.8, "the weights are as sparse as before, only stored dense"
    assert not any(conv.stored_sparse for conv in report.convs)
    assert format_report(report).startswith(f"XNNPACK will NOT run {models['dense']} sparsely")


def test_one_channel_input_is_rejected_at_the_first_convolution(models):
    report = check_sparse(models["one_channel"])
    assert not report.sparse_ready
    assert report.stem_problem is not None
    assert report.stem_problem.op == "CONV_2D"
    assert "/stem/" in report.stem_problem.output
    assert "input has 1 channel, needs 3" in report.stem_problem.problem
    assert report.culprit is None
    assert any(
        "op 1 CONV_2D ('" in reason and "/stem/" in reason and "1 channel" in reason
        for reason in report.reasons
    )


def test_same_padded_stride2_depthwise_is_the_culprit(models):
    report = check_sparse(models["same_stride2"])
    assert not report.sparse_ready
    assert report.stem_problem is None
    culprit = report.culprit
    assert culprit.op == "DEPTHWISE_CONV_2D"
    assert "/reduce/" in culprit.output
    assert "SAME padding with stride 2" in culprit.problem
    graph = read_graph(models["same_stride2"])
    op = graph.operators[culprit.op_index]
    assert op.name == "DEPTHWISE_CONV_2D" and op.options["padding"] == "SAME"
    assert op.options["stride_h"] == 2
    assert len(report.reasons) == 1 and str(culprit) in report.reasons[0]


def test_unpruned_model_gets_no_densify_and_too_few_zeros(models):
    # The converter stores a tensor sparse only when it is sparse enough, so
    # EXPERIMENTAL_SPARSITY on unpruned weights writes no DENSIFY at all.
    report = check_sparse(models["unpruned"])
    assert not report.sparse_ready
    assert report.densify_ops == 0
    assert report.zeros == 0 and report.params == 768
    assert any("DENSIFY" in reason for reason in report.reasons)
    assert any("0.0% zeros" in reason and "2/3" in reason for reason in report.reasons)


def test_float16_sparse_model_is_accepted(models):
    # The converter writes float16 sparse weights -> DENSIFY -> DEQUANTIZE -> filter.
    graph = read_graph(models["float16"])
    densify = [op for op in graph.operators if op.name == "DENSIFY"]
    assert densify and all(graph.tensors[op.inputs[0]].dtype == "float16" for op in densify)
    assert all(graph.consumers(op.outputs[0])[0].name == "DEQUANTIZE" for op in densify)
    report = check_sparse(models["float16"])
    assert report.sparse_ready, report.reasons
    assert report.dtype == "float16"
    assert report.densify_ops == 5
    assert len(report.convs) == 5
    assert all(conv.zero_fraction >= 0.8 and conv.stored_sparse for conv in report.convs)


def test_int8_model_is_rejected_as_quantized(models):
    report = check_sparse(models["int8"])
    assert not report.sparse_ready
    assert report.dtype == "int8"
    assert any("int8-quantized" in reason for reason in report.reasons)


def test_truncated_and_foreign_files_give_model_errors(models, tmp_path):
    data = models["sparse"].read_bytes()
    truncated = tmp_path / "truncated.tflite"
    for length in (100, len(data) // 2, len(data) - 100):
        truncated.write_bytes(data[:length])
        with pytest.raises(ModelError, match="truncated.tflite"):
            check_sparse(truncated)
    (tmp_path / "notes.tflite").write_text("hello, not a model")
    with pytest.raises(ModelError, match="not a TensorFlow Lite model"):
        check_sparse(tmp_path / "notes.tflite")
    with pytest.raises(ModelError, match="model file not found"):
        check_sparse(tmp_path / "absent.tflite")


def test_operator_names_match_the_tflite_schema():
    from tensorflow.lite.python.schema_py_generated import BuiltinOperator

    for code, name in BUILTIN_OPERATORS.items():
        assert getattr(BuiltinOperator, name) == code, name


def test_avx_note_only_on_x86_with_avx(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2\n")
    assert platform_notes(machine="x86_64", cpuinfo=cpuinfo)
    assert platform_notes(machine="aarch64", cpuinfo=cpuinfo) == ()
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse sse2 sse4_2\n")
    assert platform_notes(machine="x86_64", cpuinfo=cpuinfo) == ()


def test_check_runs_without_tensorflow(models):
    result = run_python(
        f"""
        import json
        from sensing.tflite.sparse_check import check_sparse
        from sensing.tflite.graph import read_graph
        report = check_sparse({str(models["sparse"])!r})
        ops = len(read_graph(report.model).operators)
        print(json.dumps({{"ready": report.sparse_ready, "ops": ops,
                          "tensorflow": "tensorflow" in sys.modules}}))
    """,
        block=("tensorflow", "tf_keras"),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == {"ready": True, "ops": 19, "tensorflow": False}
