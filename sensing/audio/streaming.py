"""Model windows from audio that arrives in chunks of any size.

:class:`StreamingWindows` keeps only the samples of an unfinished frame and
the frames of an unfinished window, so memory stays constant however long the
recording, and the windows it emits are those of :func:`sensing.audio.model_input.clip_inputs`
on the whole recording (without the extra end-aligned window), whatever the
chunk sizes. :func:`stream_clip_inputs` adds that window at the end, so a clip of
any length is classified block by block with the windows of the whole clip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator

import numpy as np

from sensing.audio.features import FeatureSettings, band_level_db, frame_count, power_spectrum
from sensing.audio.model_input import clip_inputs, frame_rows, row_width, window_input


@dataclasses.dataclass(frozen=True)
class Window:
    """One model window of a stream.

    Attributes:
        start_s: start time in seconds from the start of the stream.
        features: the model input, (window_frames, n_mels, 3) float32 features
            for a ``mel`` model (see :mod:`sensing.audio.model_input`).
        frame_db: (window_frames,) frame levels in dBFS within
            :data:`sensing.audio.features.ONSET_BAND_HZ`, for counting coughs.
    """

    start_s: float
    features: np.ndarray
    frame_db: np.ndarray


class StreamingWindows:
    """Turns mono float32 audio at ``settings.sr`` Hz, pushed in chunks, into windows.

    Args:
        settings: the model's frontend settings.
        frontend: the model's input, one of :data:`sensing.audio.model_input.MODEL_FRONTENDS`.
    """

    def __init__(self, settings: FeatureSettings, frontend: str = "mel") -> None:
        self.settings = settings
        self.frontend = frontend
        self._pending = np.zeros(0, dtype=np.float32)
        self._recent_rows = np.zeros((0, row_width(frontend, settings)), dtype=np.float32)
        self._recent_db = np.zeros(0, dtype=np.float32)
        self._frames_done = 0
        self._samples_pushed = 0

    @property
    def samples_pushed(self) -> int:
        """Number of samples pushed so far."""
        return self._samples_pushed

    @property
    def seconds_pushed(self) -> float:
        """Duration of all audio pushed so far, in seconds."""
        return self._samples_pushed / self.settings.sr

    def push(self, samples: np.ndarray) -> list[Window]:
        """Add audio; returns the windows completed by it, oldest first.

        Long chunks are worked through one window hop at a time, which keeps
        every array small (no large temporary allocations, no multithreaded
        BLAS calls that would compete for a single core).
        """
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        piece = self.settings.window_hop_samples
        windows = []
        for offset in range(0, samples.size, piece):
            windows += self._push_piece(samples[offset : offset + piece])
        return windows

    def _push_piece(self, samples: np.ndarray) -> list[Window]:
        settings = self.settings
        self._samples_pushed += samples.size
        buffer = np.concatenate([self._pending, samples])
        n_new = frame_count(buffer.size, settings)
        if n_new == 0:
            self._pending = buffer
            return []
        used = buffer[: settings.n_fft + (n_new - 1) * settings.hop_length]
        self._pending = buffer[n_new * settings.hop_length :]
        power = power_spectrum(used, settings)
        rows = np.concatenate([self._recent_rows, frame_rows(used, power, self.frontend, settings)])
        level = np.concatenate([self._recent_db, band_level_db(power, settings)])
        first_frame = self._frames_done - len(self._recent_rows)
        self._frames_done += n_new
        windows = []
        hop = settings.window_hop_frames
        start = -(-first_frame // hop) * hop  # first window start at or after first_frame
        while start + settings.window_frames <= self._frames_done:
            offset = start - first_frame
            span = slice(offset, offset + settings.window_frames)
            windows.append(
                Window(
                    start_s=start * settings.hop_length / settings.sr,
                    features=window_input(rows[span], self.frontend, settings),
                    frame_db=level[span].copy(),
                )
            )
            start += hop
        keep = max(0, self._frames_done - start)  # frames of the next, unfinished window
        self._recent_rows = rows[len(rows) - keep :].copy()
        self._recent_db = level[len(level) - keep :].copy()
        return windows


def stream_clip_inputs(
    blocks: Iterable[np.ndarray], frontend: str, settings: FeatureSettings
) -> Iterator[tuple[float, np.ndarray]]:
    """Every model window of a clip that arrives in blocks, as
    :func:`sensing.audio.model_input.clip_inputs` gives them for the whole clip.

    The windows of :class:`StreamingWindows` come as the audio arrives; at the end come
    the window aligned to the clip's end (when the last step left frames uncovered) or,
    for a clip shorter than one window, the clip centred in zeros. Only the last window's
    samples are kept, so memory does not grow with the clip's length.

    Args:
        blocks: 1-D float32 arrays at ``settings.sr`` Hz.
        frontend: the model's input, one of :data:`sensing.audio.model_input.MODEL_FRONTENDS`.
        settings: the model's frontend settings.

    Yields:
        ``(start_s, model_input)``: the window's start in seconds (negative for a padded
        clip) and its input, of shape :func:`sensing.audio.model_input.input_shape`.
    """
    windows = StreamingWindows(settings, frontend)
    keep = settings.window_samples + settings.hop_length
    tail = np.zeros(0, dtype=np.float32)
    for block in blocks:
        tail = np.concatenate([tail, np.asarray(block, dtype=np.float32).reshape(-1)])[-keep:]
        for window in windows.push(block):
            yield window.start_s, window.features
    total = windows.samples_pushed
    if total < settings.window_samples:
        inputs, starts = clip_inputs(tail, frontend, settings)
        yield from zip(starts.tolist(), inputs)
        return
    last = frame_count(total, settings) - settings.window_frames
    if last % settings.window_hop_frames:
        first = last * settings.hop_length - (total - tail.size)
        inputs, _ = clip_inputs(tail[first : first + settings.window_samples], frontend, settings)
        yield last * settings.hop_length / settings.sr, inputs[0]
