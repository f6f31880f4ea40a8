"""Training for the sensing toolkit: needs the ``train`` extra (TensorFlow, tf-keras, tfmot, librosa).

Import TensorFlow only through :mod:`training.tf_setup`, which sets the
environment TensorFlow must see before its first import.
"""
