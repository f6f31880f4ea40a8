"""Clip-level scoring of a model over every runtime window of a set of clips, streamed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

import numpy as np

from sensing.audio.features import (
    FeatureSettings,
    mel_filterbank,
    power_spectrum,
    window_features,
    window_starts,
)
from sensing.audio.model_input import clip_inputs
from training.audio.bedside import noise_floor_audio
from training.audio.clip_store import STORED_FORMS, ClipSource

PREDICT_WINDOWS = 1024
"""Windows gathered before each call to the model."""


FLOOR_SECONDS = 10.0
"""Length of the pink noise floor that :func:`over_floor` repeats under a clip."""


@lru_cache(maxsize=4)
def _pink_floor_power(settings: FeatureSettings) -> np.ndarray:
    """(frames, n_mels) mel power of :data:`FLOOR_SECONDS` of pink noise at unit RMS (fixed seed)."""
    audio = noise_floor_audio(
        np.random.default_rng(0x9F1), kind="pink", duration_s=FLOOR_SECONDS, sr=settings.sr
    )
    return power_spectrum(audio, settings) @ mel_filterbank(settings).T


def over_floor(log_mel_rows: np.ndarray, settings: FeatureSettings, below_db: float) -> np.ndarray:
    """A clip's stored log-mel rows (:func:`sensing.audio.features.log_mel`) with pink noise added in mel
    power, its mean ``below_db`` dB under the mean power of the clip's loudest frame: the clip as
    heard quieter over a faint noise floor. A loudest frame's mean mel power lies some 10 dB under
    a clip's sample peak, so ``below_db`` 24 is milder than ``sensing evaluate``'s clip at
    -46 dBFS peak over -70 dBFS noise (24 dB from peak to noise RMS)."""
    power = np.maximum(
        np.exp(log_mel_rows.astype(np.float64) * settings.log_scale + settings.log_offset)
        - settings.log_floor,
        0.0,
    )
    floor = _pink_floor_power(settings)
    floor = (
        np.resize(floor, (power.shape[0], floor.shape[1]))
        if power.shape[0] > floor.shape[0]
        else floor[: power.shape[0]]
    )
    floor = floor * (np.max(np.mean(power, axis=1)) * 10 ** (-below_db / 10) / np.mean(floor))
    return ((np.log(power + floor + settings.log_floor) - settings.log_offset) / settings.log_scale).astype(
        np.float32
    )


def inputs_from_stored(
    values: np.ndarray,
    *,
    stored: str,
    frontend: str,
    settings: FeatureSettings,
    floor_below_db: float | None = None,
) -> np.ndarray:
    """Every runtime window of a clip, as :func:`sensing.audio.model_input.clip_inputs` gives them,
    from its stored values: (windows, *model input shape) float32; with ``floor_below_db`` (stored
    log-mel only), over a noise floor (:func:`over_floor`)."""
    if stored == "audio":
        return clip_inputs(values, frontend, settings)[0]
    if floor_below_db is not None:
        values = over_floor(values, settings, floor_below_db)
    return np.stack(
        [
            window_features(values[s : s + settings.window_frames], settings)
            for s in window_starts(len(values), settings)
        ]
    )


class EvaluationSet:
    """The clips of one split, scored window by window as the runtime scores them.

    Only each window's output is kept, so memory does not grow with the clips' audio.

    Args:
        source: streams the run's clips.
        slots: the split's clips (indices into ``source.entries``), in split order.
        name: what the set is (``validation``, ``test``).
        frontend: the model input (:data:`sensing.audio.model_input.MODEL_FRONTENDS`);
            default: the run's frontend.
        floor_below_db: score the clips over a noise floor this far below their loudest
            frame (:func:`over_floor`; runs that store log-mel), or None for the clips as recorded.

    Attributes:
        true, categories: one entry per clip.
        durations_s: (clips,) length of each clip in seconds.
    """

    def __init__(
        self,
        source: ClipSource,
        slots: list[int],
        name: str,
        frontend: str | None = None,
        floor_below_db: float | None = None,
    ) -> None:
        self.source = source
        self.slots = list(slots)
        self.name = name
        self.frontend = frontend or source.frontend
        self.floor_below_db = floor_below_db
        entries = [source.entries[s] for s in self.slots]
        self.true = [e.record.label for e in entries]
        self.categories = [e.record.category for e in entries]
        self.durations_s = np.array([e.duration_s for e in entries])

    def clip_inputs(self) -> Iterator[tuple[list[int], np.ndarray]]:
        """``(positions, inputs)`` per file read: the positions in the split of the clips with
        that content (one unless a file is repeated) and the clip's runtime windows."""
        positions: dict[object, list[int]] = {}
        for position, slot in enumerate(self.slots):
            positions.setdefault(self._key(slot), []).append(position)
        stored = STORED_FORMS[self.source.frontend]
        for slot, values in self.source.dataset(self.slots).as_numpy_iterator():
            yield (
                positions[self._key(int(slot))],
                inputs_from_stored(
                    values,
                    stored=stored,
                    frontend=self.frontend,
                    settings=self.source.settings,
                    floor_below_db=self.floor_below_db,
                ),
            )

    def with_floor(self, below_db: float) -> EvaluationSet:
        """The same clips scored over a noise floor ``below_db`` dB under their loudest frame."""
        return EvaluationSet(
            self.source,
            self.slots,
            f"{self.name} over a floor {below_db:g} dB down",
            self.frontend,
            floor_below_db=below_db,
        )

    def _key(self, slot: int):
        return self.source.entries[slot].hash if self.source.cache is not None else slot

    def clip_scores(self, predict: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """(clips, labels): each clip's highest window output of ``predict``
        ((windows, *input shape) -> (windows, labels))."""
        scores = None
        pending: list[tuple[list[int], np.ndarray]] = []

        def flush():
            nonlocal scores
            outputs = predict(np.concatenate([inputs for _, inputs in pending]))
            if scores is None:
                scores = np.full((len(self.slots), outputs.shape[1]), -np.inf, dtype=np.float32)
            row = 0
            for positions, inputs in pending:
                best = outputs[row : row + len(inputs)].max(axis=0)
                row += len(inputs)
                for position in positions:
                    scores[position] = best
            pending.clear()

        for positions, inputs in self.clip_inputs():
            pending.append((positions, inputs))
            if sum(len(i) for _, i in pending) >= PREDICT_WINDOWS:
                flush()
        if pending:
            flush()
        if scores is None:
            raise ValueError(f"no {self.name} clips to score")
        return scores

    def first_inputs(self, windows: int) -> np.ndarray:
        """(up to ``windows``, *input shape): the first clips' runtime windows, in reading order."""
        gathered, count = [], 0
        for _, inputs in self.clip_inputs():
            gathered.append(inputs)
            count += len(inputs)
            if count >= windows:
                break
        return np.concatenate(gathered)[:windows]


def keras_predict(model) -> Callable[[np.ndarray], np.ndarray]:
    """A ``predict`` for :meth:`EvaluationSet.clip_scores` from a Keras model."""
    return lambda inputs: model.predict(inputs, batch_size=256, verbose=0)
