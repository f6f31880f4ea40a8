"""Which stretch of each clip becomes a training window, and the augmentation settings.

Clips shorter than a model window are centred in zeros. In a longer positive
clip (an 8 s recording with three coughs) only windows that hold the event are
used: windows whose loudest frame, away from the window's edges, is within
``event_margin_db`` of the clip's loudest frame. Negative clips use every
window. Each epoch draws fresh windows at random positions and makes them
sound as a bedside microphone would hear them: a simulated bedroom's
reverberation, a negative sound mixed in (overlapping sounds) at a random
level, a random gain, a noise floor at 0-30 dB below the window, a random
microphone response; then it masks a random band and time
span of some windows' log-mel (SpecAugment). See :mod:`training.audio.augment` and
:mod:`training.audio.bedside`.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sensing.audio.features import FeatureSettings, frame_count, frame_energy_db

EVENT_MARGIN_DB = 12.0
"""How far below a positive clip's loudest frame a frame may be and still be part of its event, dB:
the default of :attr:`AugmentSettings.event_margin_db`, and what the bedroom nights' truth counts as
a cough (:mod:`training.audio.bedroom_nights`), so the model is trained on the coughs it is scored on."""

CANDIDATE_STEP_FRAMES = 8
"""Frames between candidate window positions (80 ms at the default hop)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class AugmentSettings:
    """Augmentation of training windows (applied by :mod:`training.audio.augment`).

    Attributes:
        mix_probability: chance that a window gets a random negative mixed in.
        mix_snr_db: range of the window-to-mix energy ratio in dB.
        gain_db: range of a random gain applied to the window in dB (before the noise
            floor, which is set relative to the window, so window-peak features cancel
            it; it moves absolute-level features).
        reverb_probability: chance that a window is reverberated by one of
            ``rooms`` simulated bedrooms (kernels ``room_taps`` frames long).
        noise_floor_probability: chance that a noise floor (one of
            ``noise_floors``: coloured noise, hum) is added ...
        noise_floor_snr_db: ... at this range of window-to-floor energy ratios in dB.
        mic_probability: chance that a random microphone response is applied.
        shift_probability: chance that a window's content is moved by up to
            ``max_shift_frames`` frames, with silence where nothing moved in.
        floor_alone_probability: chance that a negative window is replaced by a
            noise floor alone (with its microphone): most of a night is nothing else.
        event_margin_db: a positive window's loudest frame must be at most
            this far below the clip's loudest frame.
        edge_frames: frames at each window edge ignored when finding its loudest frame.
        mask_probability: chance that a window's log-mel gets one band mask and
            one time mask (SpecAugment), filled with the window's mean.
        max_masked_bands: widest band mask, in mel bands.
        max_masked_frames: longest time mask, in frames.
    """

    mix_probability: float = 0.8
    mix_snr_db: tuple[float, float] = (0.0, 25.0)
    gain_db: tuple[float, float] = (-45.0, 0.0)
    reverb_probability: float = 0.7
    rooms: int = 16
    room_taps: int = 64
    noise_floor_probability: float = 0.9
    noise_floor_snr_db: tuple[float, float] = (0.0, 30.0)
    noise_floors: int = 16
    mic_probability: float = 0.7
    floor_alone_probability: float = 0.15
    shift_probability: float = 0.5
    max_shift_frames: int = 32
    event_margin_db: float = EVENT_MARGIN_DB
    edge_frames: int = 12
    mask_probability: float = 0.5
    max_masked_bands: int = 6
    max_masked_frames: int = 12


def candidate_starts(n_frames: int, settings: FeatureSettings) -> np.ndarray:
    """First frames of the windows a training window may start at, every
    :data:`CANDIDATE_STEP_FRAMES` frames and one aligned to the end: int64, never empty
    for ``n_frames >= window_frames``."""
    last = n_frames - settings.window_frames
    starts = np.arange(0, last + 1, CANDIDATE_STEP_FRAMES, dtype=np.int64)
    if starts[-1] != last:
        starts = np.append(starts, last)
    return starts


def event_starts(padded: np.ndarray, settings: FeatureSettings, augment: AugmentSettings) -> np.ndarray:
    """The candidate starts (in frames) of a positive clip's windows that hold its event.

    Args:
        padded: 1-D audio at ``settings.sr`` Hz, at least one window long
            (:func:`sensing.audio.features.pad_to_window`).

    Returns:
        int64 frame indices, never empty: windows whose loudest frame, away from
        the window's edges, is within ``augment.event_margin_db`` of the clip's
        loudest frame, and always the window centred on that frame.
    """
    starts = candidate_starts(frame_count(padded.size, settings), settings)
    if starts.size == 1:
        return starts
    frame_db = frame_energy_db(padded, settings)
    inner = slice(augment.edge_frames, settings.window_frames - augment.edge_frames)
    window_peak = np.array([frame_db[s : s + settings.window_frames][inner].max() for s in starts])
    keep = window_peak >= frame_db.max() - augment.event_margin_db
    loudest_frame = int(np.argmax(frame_db))
    keep[np.argmin(np.abs(starts + settings.window_frames // 2 - loudest_frame))] = True
    return starts[keep]
