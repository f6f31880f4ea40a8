"""How fast a model runs on this machine: inference latency and the detection pipeline's real-time factor.

The same command on a Raspberry Pi tells how much headroom the rig has: a
real-time factor of 10 means an hour of audio is processed in 6 minutes on the
chosen number of threads.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np

from sensing.audio.classifier import AudioClassifier
from sensing.audio.detect import default_event_settings, tracker_for
from sensing.audio.model_input import input_shape
from sensing.audio.streaming import StreamingWindows
from sensing.tflite.sparse_check import check_sparse


@dataclasses.dataclass(frozen=True)
class BenchResult:
    """Timings of one model. Latencies in milliseconds per window."""

    model: str
    backend: str
    threads: int | None
    model_bytes: int
    latency_median_ms: float
    latency_p90_ms: float
    speed_vs_first: float
    xnnpack_sparse: bool
    pipeline_real_time_factor: float
    pipeline_audio_s: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _test_audio(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Room-like noise with bursts, so the event logic has work to do."""
    rng = np.random.default_rng(seed)
    audio = 0.01 * rng.standard_normal(int(seconds * sr))
    for start in rng.integers(0, audio.size - sr // 2, size=max(1, int(seconds // 5))):
        audio[start : start + sr // 4] += 0.2 * rng.standard_normal(sr // 4)
    return audio.astype(np.float32)


def interleaved_latencies(
    classifiers: list[AudioClassifier], *, invocations: int = 200, rounds: int = 10, warmup: int = 10
) -> list[np.ndarray]:
    """Milliseconds per single-window inference of each classifier, measured in turns.

    Each of ``rounds`` rounds times ``invocations / rounds`` inferences of every
    model in turn, so a slow spell of the machine (another process, a frequency
    change) falls on all models alike and their ratio stays fair.
    """
    rng = np.random.default_rng(1)
    windows = [
        rng.standard_normal(input_shape(c.frontend, c.metadata.features)).astype(np.float32)
        for c in classifiers
    ]
    for classifier, window in zip(classifiers, windows):
        for _ in range(warmup):
            classifier.predict_window(window)
    per_round = max(1, invocations // rounds)
    latencies: list[list[float]] = [[] for _ in classifiers]
    for _ in range(rounds):
        for times, classifier, window in zip(latencies, classifiers, windows):
            for _ in range(per_round):
                started = time.perf_counter()
                classifier.predict_window(window)
                times.append((time.perf_counter() - started) * 1000)
    return [np.array(times) for times in latencies]


def bench_models(
    model_paths: list[str],
    *,
    threads: int | None = None,
    invocations: int = 200,
    pipeline_seconds: float = 120.0,
) -> list[BenchResult]:
    """Time the models side by side: interleaved inference latencies, then each pipeline run.

    ``speed_vs_first`` is the first model's median latency over this one's (2.0:
    twice as fast); ``xnnpack_sparse`` says whether XNNPACK may use its sparse
    kernels for the file (see :mod:`sensing.tflite.sparse_check`).
    """
    classifiers = [AudioClassifier(path, num_threads=threads) for path in model_paths]
    latencies = interleaved_latencies(classifiers, invocations=invocations)
    first_median = float(np.median(latencies[0]))
    results = []
    for path, classifier, times in zip(model_paths, classifiers, latencies):
        results.append(
            BenchResult(
                model=str(path),
                backend=classifier.backend,
                threads=threads,
                model_bytes=classifier.model_path.stat().st_size,
                latency_median_ms=round(float(np.median(times)), 3),
                latency_p90_ms=round(float(np.percentile(times, 90)), 3),
                speed_vs_first=round(first_median / float(np.median(times)), 2),
                xnnpack_sparse=check_sparse(path).sparse_ready,
                pipeline_real_time_factor=round(_pipeline_real_time_factor(classifier, pipeline_seconds), 1),
                pipeline_audio_s=pipeline_seconds,
            )
        )
    return results


def _pipeline_real_time_factor(classifier: AudioClassifier, pipeline_seconds: float) -> float:
    """Seconds of audio per second of processing: streaming features, model and event logic."""
    settings = classifier.metadata.features
    audio = _test_audio(pipeline_seconds, settings.sr)
    windows = StreamingWindows(settings, classifier.frontend)
    tracker = tracker_for(classifier, default_event_settings(classifier))
    block = settings.sr  # one-second blocks, as a live microphone delivers them
    started = time.perf_counter()
    for offset in range(0, audio.size, block):
        for item in windows.push(audio[offset : offset + block]):
            probabilities = classifier.predict_window(item.features)
            tracker.update(item.start_s, dict(zip(classifier.labels, probabilities.tolist())), item.frame_db)
    tracker.finish()
    return pipeline_seconds / (time.perf_counter() - started)
