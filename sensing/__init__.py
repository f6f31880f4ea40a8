"""On-device cough, snore and sleep sensing: the runtime.

This package needs only numpy, soundfile and a TensorFlow Lite interpreter.
Training lives in the separate ``training`` package (the ``train`` extra).
"""

__version__ = "0.1.0"
