"""Training on several devices or machines with TensorFlow's own distribution strategies.

- ``none``: one device (TensorFlow's default strategy).
- ``mirrored``: :class:`tf.distribute.MirroredStrategy` over every local GPU,
  or, on a machine without one, over ``cpu_devices`` logical CPU devices.
- ``multiworker``: :class:`tf.distribute.MultiWorkerMirroredStrategy`; each
  worker is its own process (on its own machine, or several on one) and
  learns the cluster and its own place in it from the standard ``TF_CONFIG``
  environment variable.

Every replica takes ``batch_size`` windows per step, so a step's global batch
is ``batch_size`` times the replicas in sync, and the learning rate is scaled
by the same factor (the linear scaling rule). Worker 0 (the chief) writes the
run folder; the other workers keep their working files in a temporary folder
and remove it once training ends. Strategies must be made before TensorFlow
runs anything.
"""

from __future__ import annotations

import json
import os
import socket

from sensing.errors import SensingError
from training.tf_setup import tf

DISTRIBUTE_CHOICES = ("none", "mirrored", "multiworker")


def _tf_config() -> dict:
    text = os.environ.get("TF_CONFIG")
    if not text:
        raise SensingError(
            "--distribute multiworker needs the TF_CONFIG environment variable, e.g. "
            'TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
            '"task": {"type": "worker", "index": 0}}\' on the first worker'
        )
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        index = int(task["index"])
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise SensingError(
            f"TF_CONFIG is not a valid cluster description ({error!r}); it needs "
            '"cluster": {"worker": [...]} and "task": {"type": ..., "index": ...}'
        ) from None
    if task.get("type") != "worker" or not 0 <= index < len(workers) or "chief" in config["cluster"]:
        raise SensingError(
            f"TF_CONFIG task {task} must be one of the {len(workers)} workers "
            "(worker 0 is the chief; a separate chief task is not used)"
        )
    return config


def make_strategy(distribute: str, *, cpu_devices: int = 2) -> tf.distribute.Strategy:
    """The strategy for ``distribute`` (see the module docstring); call before any other TensorFlow work."""
    if distribute not in DISTRIBUTE_CHOICES:
        raise SensingError(
            f"unknown --distribute {distribute!r}; choose from {', '.join(DISTRIBUTE_CHOICES)}"
        )
    if distribute == "none":
        return tf.distribute.get_strategy()
    if distribute == "multiworker":
        _tf_config()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    if cpu_devices < 2:
        raise SensingError("--distribute mirrored without GPUs needs at least 2 CPU devices")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices
        )
    except RuntimeError:
        raise SensingError(
            "TensorFlow was already running when the CPU was split into devices; make the strategy first"
        ) from None
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(cpu_devices)])


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the run folder (worker 0, or the only process)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver is None or resolver.task_type is None or resolver.task_id == 0


def worker_count(strategy: tf.distribute.Strategy) -> int:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return 1
    return len(resolver.cluster_spec().as_dict().get("worker", [])) or 1


def distributed(strategy: tf.distribute.Strategy, dataset_fn):
    """``dataset_fn(input_context)`` as ``model.fit`` takes it under ``strategy``."""
    if not isinstance(strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy)):
        return dataset_fn(tf.distribute.InputContext())
    return strategy.distribute_datasets_from_function(dataset_fn)


def describe(distribute: str, strategy: tf.distribute.Strategy) -> dict:
    """What a run trained on, for its ``config.json``."""
    return {
        "distribute": distribute,
        "replicas": int(strategy.num_replicas_in_sync),
        "workers": worker_count(strategy),
    }


def loopback_tf_configs(workers: int) -> list[str]:
    """``TF_CONFIG`` values for ``workers`` processes on this machine, one per worker, on free
    loopback ports (for trying multi-worker training, and for its tests and benchmark)."""
    sockets = [socket.socket() for _ in range(workers)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    cluster = {"worker": [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]}
    for s in sockets:
        s.close()
    return [json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}}) for i in range(workers)]
