"""The one place TensorFlow is imported.

tensorflow-model-optimization works with Keras 2 (the ``tf_keras`` package),
and TensorFlow uses it only when ``TF_USE_LEGACY_KERAS=1`` is set before
TensorFlow's first import. Every training module imports ``tf`` and ``keras``
from here. Random layers (dropout, in-graph masks) draw from ``tf.random.Generator``
objects, which a checkpointed run can reseed (see :mod:`training.checkpoints`).
TensorFlow's own output (C++ logs, Python warnings) is kept quiet unless
asked for (:mod:`training.tf_output`).
"""

import os
import warnings

from training.tf_output import TF_LOG_LEVEL_VARIABLE, captured_native_stderr, is_verbose

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault(TF_LOG_LEVEL_VARIABLE, "0" if is_verbose() else "3")

with captured_native_stderr():
    import tensorflow as tf
    import tf_keras as keras

if not is_verbose():
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)
    tf.get_logger().setLevel("ERROR")
    warnings.filterwarnings("ignore", module=r"(tensorflow|tf_keras|tensorflow_model_optimization)(\.|$)")

keras.backend.experimental.enable_tf_random_generator()

__all__ = ["keras", "tf"]
