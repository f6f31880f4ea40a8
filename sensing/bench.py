"""How fast a model runs on this machine: inference latency and the detection pipeline's real-time factor.

The same command on a Raspberry Pi tells how much headroom the rig has: a
real-time factor of 10 means an hour of audio is processed in 6 minutes on the
chosen number of threads.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from sensing.classifier import AudioClassifier
from sensing.detect import default_event_settings, tracker_for
from sensing.streaming import StreamingWindows


@dataclasses.dataclass(frozen=True)
class BenchResult:
    """Timings of one model. Latencies in milliseconds per window."""

    model: str
    backend: str
    threads: int | None
    model_bytes: int
    latency_median_ms: float
    latency_p90_ms: float
    pipeline_real_time_factor: float
    pipeline_audio_s: float

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _test_audio(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    """Room-like noise with bursts, so the event logic has work to do."""
    rng = np.random.default_rng(seed)
    audio = 0.01 * rng.standard_normal(int(seconds * sr))
    for start in rng.integers(0, audio.size - sr // 2, size=max(1, int(seconds // 5))):
        audio[start:start + sr // 4] += 0.2 * rng.standard_normal(sr // 4)
    return audio.astype(np.float32)


def bench_model(model_path: str, *, threads: int | None = None, invocations: int = 200,
                pipeline_seconds: float = 120.0) -> BenchResult:
    """Time ``invocations`` single-window inferences and a ``pipeline_seconds`` detection run."""
    classifier = AudioClassifier(model_path, num_threads=threads)
    settings = classifier.metadata.features
    rng = np.random.default_rng(1)
    window = rng.standard_normal(settings.input_shape).astype(np.float32)
    for _ in range(10):
        classifier.predict_window(window)
    latencies = []
    for _ in range(invocations):
        started = time.perf_counter()
        classifier.predict_window(window)
        latencies.append((time.perf_counter() - started) * 1000)

    audio = _test_audio(pipeline_seconds, settings.sr)
    windows = StreamingWindows(settings)
    tracker = tracker_for(classifier, default_event_settings(classifier))
    block = settings.sr  # one-second blocks, as a live microphone delivers them
    started = time.perf_counter()
    for offset in range(0, audio.size, block):
        for item in windows.push(audio[offset:offset + block]):
            probabilities = classifier.predict_window(item.features)
            tracker.update(item.start_s, dict(zip(classifier.labels, probabilities.tolist())),
                           item.frame_db)
    tracker.finish()
    elapsed = time.perf_counter() - started
    return BenchResult(model=str(model_path), backend=classifier.backend, threads=threads,
                       model_bytes=classifier.model_path.stat().st_size,
                       latency_median_ms=round(float(np.median(latencies)), 3),
                       latency_p90_ms=round(float(np.percentile(latencies, 90)), 3),
                       pipeline_real_time_factor=round(pipeline_seconds / elapsed, 1),
                       pipeline_audio_s=pipeline_seconds)
