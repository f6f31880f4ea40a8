"""The one place TensorFlow is imported.

tensorflow-model-optimization works with Keras 2 (the ``tf_keras`` package),
and TensorFlow uses it only when ``TF_USE_LEGACY_KERAS=1`` is set before
TensorFlow's first import. Every training module imports ``tf`` and ``keras``
from here. Random layers (dropout, in-graph masks) draw from ``tf.random.Generator``
objects, which a checkpointed run can reseed (see :mod:`training.checkpoints`).
"""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf
import tf_keras as keras

keras.backend.experimental.enable_tf_random_generator()

__all__ = ["keras", "tf"]
