"""Find the sleeper's range bins from the first minutes of a recording.

The scan cuts ``seconds`` of the recording into 60 s windows, 30 s apart, and
in each judges every range bin by the physics of a breathing chest:

1. Clutter removal: each bin's mean over the window is subtracted per
   receiver; what remains is motion plus noise. ``snr_db`` is that motion
   power over the noise floor (the 20th percentile of the bins' motion power:
   most bins hold only noise). Bins under 6 dB are still.
2. Coherence across receivers: ``coherence`` is the largest eigenvalue's
   share of the receivers' 3x3 covariance (1: one reflector at one azimuth;
   1/3: noise; lower for reflectors at several azimuths, such as a curtain's
   folds). The receivers are combined along that eigenvector.
3. Doppler: ``fast_share`` is the share of the motion power (noise floor
   removed) above 3 Hz Doppler, i.e. radial speeds over 7 mm/s. A breathing
   chest stays below (a 6 mm breath at 18/min peaks near 6 mm/s); a ceiling
   fan's blades move metres per second, alias at 15 frames/s and spread over
   all Doppler bins; walking and limb movements are fast too.
4. Displacement: the unwrapped phase times lambda / (4 pi), linear trend
   removed; its spectrum (Hann window) gives ``breathing_share`` (power in
   0.1-0.5 Hz over all but DC), ``slow_share`` (below 0.1 Hz: a curtain's
   drift, a body settling), ``periodicity`` (the share of the 0.1-0.5 Hz power
   within +-2 spectral bins of its peak: one rhythm rather than several) and
   ``rate_bpm`` (that peak).
5. ``score`` = breathing_share x periodicity. A bin breathes when it moves,
   is not fast (fast_share <= 0.3), scores >= 0.5 and is coherent (>= 0.7).
   Otherwise it is ``fast``, ``slow`` (slow_share above breathing_share),
   ``irregular`` or ``incoherent``.

Bodies: the strongest breathing bin seeds a body, which takes the moving bins
within 0.18 m whose breathing-band displacement spectrum correlates with the
seed's (magnitude >= 0.6: one rhythm, as chest, abdomen, an arm and the head
of one person share), plus a bin of margin; the next strongest breathing bin
left seeds the next body, down to 20 dB below the strongest (weaker ones are
sidelobes or faint reflections). A body counts if a body lies within 0.1 m
of it in the window before or after (breathing lasts; a chance rhythm in a
swaying curtain does not).

The sleeper is the NEAREST body: the device stands on the sleeper's
bedside, so a bed partner, and any multipath image of either, lies further
away. Over the windows, the sleeper is the nearest body seen in any; of the
windows with a body within 0.1 m of it, the one whose seed has the best score
x coherence decides, and its body's bins are the range window (at most 0.18 m
either side of the seed).

The default 300 s suits a setup recording made lying in bed. On a night
recording, pass a span reaching past sleep onset (``seconds=1800``): an awake
sleeper's breathing is irregular and their limbs move, so while they lie awake
a partner already asleep would be the nearest body found.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, NamedTuple

import numpy as np

from sensing.errors import RadarError
from sensing.radar.recording import Recording, is_finite_number

WINDOW_S = 60.0
"""Length of one analysis window, s."""
HOP_S = 30.0
"""Start-to-start distance of the analysis windows, s."""
MIN_SPAN_S = 20.0
"""Shortest span calibration accepts, s."""
BREATHING_BAND_HZ = (0.1, 0.5)
FAST_HZ = 3.0
"""Doppler above this (radial speed over 7 mm/s at 60 GHz) is faster than a breathing chest."""
MIN_SNR_DB = 6.0
MAX_FAST_SHARE = 0.3
MIN_SCORE = 0.5
MIN_COHERENCE = 0.7
NOISE_PERCENTILE = 20.0
MIN_SIMILARITY = 0.6
"""Breathing bins whose rhythms correlate at least this much belong to one body."""
BODY_RADIUS_M = 0.18
"""A body's bins lie within this range of its strongest bin (chest, arm, abdomen and head of one
person); a partner lies at least 0.3 m away."""
CANDIDATE_DB = 20.0
"""A breathing bin further than this below the strongest is a sidelobe or a weak reflection."""
SAME_BODY_M = 0.1
"""Peaks in different windows within this range of each other are the same body."""
NEARER_DB = 15.0
"""Non-breathing motion this strong nearer than the sleeper is worth a warning."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RegionEvidence:
    """One region of moving bins in the chosen window and what it looked like.

    Attributes:
        range_min_m, range_max_m: the region's bins, m.
        peak_range_m: the bin the figures below describe, m: for a body the breathing bin it
            grew from, otherwise the bin with the most motion power.
        snr_db: motion power over the noise floor, dB.
        coherence: largest eigenvalue's share of the receivers' covariance (1/n_rx to 1).
        breathing_share, slow_share, fast_share, periodicity, score: see the module doc.
        rate_bpm: the displacement spectrum's peak in the breathing band, per minute.
        verdict: ``sleeper``, ``breathing`` (another body), ``unconfirmed`` (a body in this
            window only), ``weak``, ``fast``, ``slow``, ``irregular`` or ``incoherent``.
        reason: the verdict in words.
    """

    range_min_m: float
    range_max_m: float
    peak_range_m: float
    snr_db: float
    coherence: float
    breathing_share: float
    slow_share: float
    fast_share: float
    periodicity: float
    score: float
    rate_bpm: float
    verdict: str
    reason: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Calibration:
    """Where the sleeper is, or why no sleeper was found.

    Attributes:
        found: whether a breathing body was found.
        range_min_m, range_max_m: the sleeper's range window, m (None when not found).
        bins: the range bins of that window.
        window_start_s: start of the 60 s window the decision rests on, s.
        rate_bpm: the sleeper's breathing rate in that window, per minute.
        reason: the decision in words.
        evidence: the moving regions of the deciding window (when nothing was found:
            of the window with the most moving bins), nearest first.
        windows: per analysis window: (start_s, range of its nearest breathing body in m or
            None, its score x coherence or 0).
    """

    found: bool
    range_min_m: float | None
    range_max_m: float | None
    bins: tuple[int, ...]
    window_start_s: float | None
    rate_bpm: float | None
    reason: str
    evidence: tuple[RegionEvidence, ...]
    windows: tuple[tuple[float, float | None, float], ...]

    @property
    def centre_m(self) -> float | None:
        """The middle of the sleeper's range window, m (None when not found)."""
        if self.range_min_m is None or self.range_max_m is None:
            return None
        return (self.range_min_m + self.range_max_m) / 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict of every field."""
        values: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(self)))
        return values

    def describe(self) -> str:
        """The decision and each region's evidence, one line each."""
        lines = [self.reason]
        for region in self.evidence:
            lines.append(
                f"  {region.range_min_m:.2f}-{region.range_max_m:.2f} m: {region.verdict}: {region.reason} "
                f"(snr {region.snr_db:.0f} dB, coherence {region.coherence:.2f}, breathing share "
                f"{region.breathing_share:.2f}, periodicity {region.periodicity:.2f}, slow "
                f"{region.slow_share:.2f}, fast {region.fast_share:.2f}, {region.rate_bpm:.1f}/min)"
            )
        return "\n".join(lines)


@dataclasses.dataclass(frozen=True)
class _BinFeatures:
    """Per-bin figures of one window, each (bins,); band_spectrum (band frequencies, bins) is the
    complex displacement spectrum in the breathing band."""

    snr_db: np.ndarray
    coherence: np.ndarray
    breathing_share: np.ndarray
    slow_share: np.ndarray
    fast_share: np.ndarray
    periodicity: np.ndarray
    rate_bpm: np.ndarray
    band_spectrum: np.ndarray

    @property
    def score(self) -> np.ndarray:
        return np.asarray(self.breathing_share * self.periodicity)

    def verdicts(self) -> np.ndarray:
        """(bins,) ``still``, ``fast``, ``slow``, ``irregular``, ``incoherent`` or ``breathing``."""
        verdict = np.full(self.snr_db.size, "breathing", dtype=object)
        weak_rhythm = self.score < MIN_SCORE
        verdict[self.coherence < MIN_COHERENCE] = "incoherent"
        verdict[weak_rhythm] = np.where(
            self.slow_share[weak_rhythm] > self.breathing_share[weak_rhythm], "slow", "irregular"
        )
        verdict[self.fast_share > MAX_FAST_SHARE] = "fast"
        verdict[self.snr_db < MIN_SNR_DB] = "still"
        return verdict


_REASONS = {
    "fast": "most motion above 3 Hz Doppler, faster than a chest (a fan, walking, limbs moving)",
    "slow": "displacement mostly below 0.1 Hz (a slow drift: a curtain, a body settling)",
    "irregular": "no single rhythm in 0.1-0.5 Hz",
    "incoherent": "incoherent across receivers (several reflectors at different azimuths)",
    "weak": f"breathing, but over {CANDIDATE_DB:g} dB below the strongest (a sidelobe or weak reflection)",
    "breathing": "another breathing body (a bed partner or a multipath image)",
    "unconfirmed": "breathing-like in this window only, not in the window before or after",
    "sleeper": "the nearest breathing body (the radar stands on the sleeper's bedside)",
}


def _bin_features(frames: np.ndarray, *, frame_rate_hz: float, wavelength_m: float) -> _BinFeatures:
    """Clutter-removed motion figures of each bin of (frames, rx, bins) complex frames."""
    n_frames, n_rx, _ = frames.shape
    motion = frames - frames.mean(axis=0)
    covariance = np.einsum("frb,fsb->brs", motion, motion.conj()) / n_frames
    eigenvalues, eigenvectors = np.linalg.eigh(covariance)
    total = np.maximum(eigenvalues.sum(axis=1), 1e-30)
    noise = max(float(np.percentile(total / n_rx, NOISE_PERCENTILE)), 1e-30)
    signal = np.einsum("br,frb->fb", eigenvectors[:, :, -1].conj(), motion)
    window = np.hanning(n_frames)[:, None]
    freq = np.fft.fftfreq(n_frames, 1 / frame_rate_hz)
    doppler = np.abs(np.fft.fft(signal * window, axis=0)) ** 2 / (n_frames * (window**2).sum())
    fast = np.abs(freq) > FAST_HZ
    moving = np.maximum(doppler.sum(axis=0) - noise, noise * 1e-3)
    displacement = np.unwrap(np.angle(signal), axis=0) * wavelength_m / (4 * np.pi)
    t = np.linspace(-1, 1, n_frames)[:, None]
    displacement -= displacement.mean(axis=0) + t * (t * displacement).sum(axis=0) / (t * t).sum()
    spectrum = np.fft.rfft(displacement * window, axis=0)
    power = np.abs(spectrum) ** 2
    rfreq = np.fft.rfftfreq(n_frames, 1 / frame_rate_hz)
    band = (rfreq >= BREATHING_BAND_HZ[0]) & (rfreq <= BREATHING_BAND_HZ[1])
    all_but_dc = np.maximum(power[1:].sum(axis=0), 1e-30)
    in_band = power[band]
    peak = np.argmax(in_band, axis=0)
    cumulative = np.concatenate([np.zeros((1, in_band.shape[1])), np.cumsum(in_band, axis=0)])
    columns = np.arange(in_band.shape[1])
    near_peak = (
        cumulative[np.minimum(peak + 3, in_band.shape[0]), columns]
        - cumulative[np.maximum(peak - 2, 0), columns]
    )
    return _BinFeatures(
        snr_db=10 * np.log10(np.maximum(total / n_rx / noise, 1e-30)),
        coherence=eigenvalues[:, -1] / total,
        breathing_share=in_band.sum(axis=0) / all_but_dc,
        slow_share=power[1:][rfreq[1:] < BREATHING_BAND_HZ[0]].sum(axis=0) / all_but_dc,
        fast_share=np.clip((doppler[fast].sum(axis=0) - noise * fast.mean()) / moving, 0.0, 1.0),
        periodicity=near_peak / np.maximum(in_band.sum(axis=0), 1e-30),
        rate_bpm=60 * rfreq[band][peak],
        band_spectrum=spectrum[band],
    )


def _similarity(features: _BinFeatures, seed: int, others: np.ndarray) -> np.ndarray:
    """(others,) magnitude of the breathing-band spectral correlation of ``others`` with ``seed``.

    1 for displacements with one rhythm (any sign, any lag); near 0 for
    different rates.
    """
    spectra = features.band_spectrum
    cross = np.abs((spectra[:, [seed]] * spectra[:, others].conj()).sum(axis=0))
    norms = np.sqrt((np.abs(spectra[:, [seed]]) ** 2).sum() * (np.abs(spectra[:, others]) ** 2).sum(axis=0))
    return np.asarray(cross / np.maximum(norms, 1e-30))


class _Body(NamedTuple):
    """A breathing body in one window: its strongest bin, its bins (with margin), and the
    breathing bin it grew from (the strongest breathing bin not in a stronger body)."""

    peak: int
    bins: list[int]
    seed: int


def _bodies(features: _BinFeatures, verdict: np.ndarray, radius_bins: int) -> list[_Body]:
    """The breathing bodies of a window, nearest peak first (see the module doc)."""
    breathing = np.flatnonzero(verdict == "breathing")
    if breathing.size == 0:
        return []
    snr = features.snr_db
    strongest = snr[breathing].max()
    free = set(np.flatnonzero(verdict != "still").tolist())
    bodies = []
    for seed in breathing[np.argsort(-snr[breathing], kind="stable")].tolist():
        if snr[seed] < strongest - CANDIDATE_DB:
            break
        if seed not in free:
            continue
        near = np.array(sorted(index for index in free if abs(index - seed) <= radius_bins))
        members = sorted(set(near[_similarity(features, seed, near) >= MIN_SIMILARITY].tolist()) | {seed})
        free -= set(members)
        window = _body_bins(members, seed, radius_bins, snr.size)
        bodies.append(_Body(max(window, key=lambda index: snr[index]), window, seed))
    return sorted(bodies)


def _body_bins(members: list[int], seed: int, radius_bins: int, n_bins: int) -> list[int]:
    """The body's bins with one bin of margin each side, within ``radius_bins`` of its seed."""
    low = max(0, members[0] - 1, seed - radius_bins)
    high = min(n_bins - 1, members[-1] + 1, seed + radius_bins)
    return list(range(low, high + 1))


def _regions(
    features: _BinFeatures, verdict: np.ndarray, bodies: list[_Body], names: list[str], range_m: np.ndarray
) -> list[RegionEvidence]:
    """Evidence for each body (verdict from ``names``) and each run of moving bins sharing a
    verdict, nearest first."""
    label = verdict.copy()
    label[label == "breathing"] = "weak"
    peaks = {}
    for number, (body, name) in enumerate(zip(bodies, names)):
        label[body.bins[0] : body.bins[-1] + 1] = f"{name}-{number}"
        peaks[f"{name}-{number}"] = body.seed
    regions = []
    start = 0
    for end in range(1, label.size + 1):
        if end < label.size and label[end] == label[start]:
            continue
        if label[start] != "still":
            span = np.arange(start, end)
            peak = peaks.get(label[start], int(span[np.argmax(features.snr_db[span])]))
            name = str(label[start]).split("-")[0]
            regions.append(
                RegionEvidence(
                    range_min_m=round(float(range_m[start]), 4),
                    range_max_m=round(float(range_m[end - 1]), 4),
                    peak_range_m=round(float(range_m[peak]), 4),
                    snr_db=round(float(features.snr_db[peak]), 2),
                    coherence=round(float(features.coherence[peak]), 3),
                    breathing_share=round(float(features.breathing_share[peak]), 3),
                    slow_share=round(float(features.slow_share[peak]), 3),
                    fast_share=round(float(features.fast_share[peak]), 3),
                    periodicity=round(float(features.periodicity[peak]), 3),
                    score=round(float(features.score[peak]), 3),
                    rate_bpm=round(float(features.rate_bpm[peak]), 1),
                    verdict=name,
                    reason=_REASONS[name],
                )
            )
        start = end
    return regions


def calibrate(recording: Recording, *, seconds: float = 1800.0, start_s: float = 0.0) -> Calibration:
    """Find the sleeper's range window in ``seconds`` of ``recording`` from ``start_s``.

    Windows are 60 s long, 30 s apart (one shorter window if the span is
    under 60 s). A recording with no breathing body gives ``found=False`` and
    the reason, not an error.

    Raises:
        RadarError: a span that starts before 0 or holds less than 20 s of the recording.
    """
    config = recording.config
    rate = config.frame_rate_hz
    if not (is_finite_number(start_s) and is_finite_number(seconds) and seconds > 0):
        raise RadarError(
            f"{recording.path}: calibration needs a finite start and a positive finite span in "
            f"seconds, got start {start_s!r} and {seconds!r} s"
        )
    first = round(start_s * rate)
    last = min(recording.n_frames, first + round(seconds * rate))
    if start_s < 0 or last - first < round(MIN_SPAN_S * rate):
        raise RadarError(
            f"{recording.path}: calibration needs at least {MIN_SPAN_S:g} s from {start_s:g} s "
            f"(asked {seconds:g} s); the recording holds {recording.duration_s:g} s"
        )
    window = min(round(WINDOW_S * rate), last - first)
    range_m = config.range_m(recording.n_bins)
    radius = max(1, round(BODY_RADIUS_M / config.range_resolution_m))
    scans = [
        _scan(recording, begin, window, radius)
        for begin in range(first, last - window + 1, round(HOP_S * rate))
    ]
    windows = tuple(
        (
            scan.start_s,
            None if not scan.bodies else round(float(range_m[scan.bodies[0].peak]), 4),
            round(scan.strength(0), 3),
        )
        for scan in scans
    )
    confirmed = [
        (index, number)
        for index, scan in enumerate(scans)
        for number in range(len(scan.bodies))
        if len(scans) == 1 or _confirmed(scans, index, number, range_m)
    ]
    if not confirmed:
        busiest = max(scans, key=lambda scan: int((scan.verdict != "still").sum()))
        names = ["unconfirmed"] * len(busiest.bodies)
        moving = _regions(busiest.features, busiest.verdict, busiest.bodies, names, range_m)
        what = (
            (
                "; moving but not breathing: "
                + ", ".join(f"{r.range_min_m:.2f}-{r.range_max_m:.2f} m {r.verdict}" for r in moving)
            )
            if moving
            else ""
        )
        return Calibration(
            found=False,
            range_min_m=None,
            range_max_m=None,
            bins=(),
            window_start_s=None,
            rate_bpm=None,
            reason=f"no breathing person found in {(last - first) / rate:g} s from {start_s:g} s{what}",
            evidence=tuple(moving),
            windows=windows,
        )
    nearest = min(range_m[scans[index].bodies[number].peak] for index, number in confirmed)
    index, number = max(
        (
            (index, number)
            for index, number in confirmed
            if range_m[scans[index].bodies[number].peak] <= nearest + SAME_BODY_M
        ),
        key=lambda pair: scans[pair[0]].strength(pair[1]),
    )
    best = scans[index]
    peak, members, seed = best.bodies[number]
    bins = tuple(members)
    names = [
        "sleeper" if other == number else "breathing" if (index, other) in confirmed else "unconfirmed"
        for other in range(len(best.bodies))
    ]
    others = len(best.bodies) - number - 1
    rate_bpm = float(best.features.rate_bpm[seed])
    evidence = tuple(_regions(best.features, best.verdict, best.bodies, names, range_m))
    low_m, high_m = float(range_m[bins[0]]), float(range_m[bins[-1]])
    reason = (
        f"sleeper at {range_m[peak]:.2f} m (window {low_m:.2f}-{high_m:.2f} m), breathing "
        f"{rate_bpm:.0f}/min in the window at {best.start_s:g} s: the nearest breathing body"
    )
    if others:
        reason += f"; {others} further breathing bod{'y' if others == 1 else 'ies'} ignored"
    nearer = [
        region
        for region in evidence
        if region.range_max_m < low_m
        and region.snr_db >= NEARER_DB
        and region.verdict in ("fast", "slow", "irregular", "incoherent", "unconfirmed")
    ]
    if nearer:
        reason += (
            f"; nearer motion that does not breathe at {nearer[0].range_min_m:.2f}-"
            f"{nearer[-1].range_max_m:.2f} m (an awake sleeper? calibrate on a later span)"
        )
    return Calibration(
        found=True,
        range_min_m=round(low_m, 4),
        range_max_m=round(high_m, 4),
        bins=bins,
        window_start_s=best.start_s,
        rate_bpm=round(rate_bpm, 1),
        reason=reason,
        evidence=evidence,
        windows=windows,
    )


def _confirmed(scans: list[_Scan], index: int, number: int, range_m: np.ndarray) -> bool:
    """Whether the previous or next window has a body within SAME_BODY_M of body ``number``."""
    peak_m = range_m[scans[index].bodies[number].peak]
    return any(
        abs(range_m[body.peak] - peak_m) <= SAME_BODY_M
        for neighbour in scans[max(0, index - 1) : index + 2]
        if neighbour is not scans[index]
        for body in neighbour.bodies
    )


@dataclasses.dataclass(frozen=True)
class _Scan:
    """One analysed window: its bins' figures and verdicts and its bodies, nearest first."""

    start_s: float
    features: _BinFeatures
    verdict: np.ndarray
    bodies: list[_Body]

    def strength(self, number: int) -> float:
        """Score x coherence at the seed of body ``number``; 0 if there is no such body."""
        if number >= len(self.bodies):
            return 0.0
        seed = self.bodies[number].seed
        return float(self.features.score[seed] * self.features.coherence[seed])


def _scan(recording: Recording, begin: int, window: int, radius_bins: int) -> _Scan:
    config = recording.config
    features = _bin_features(
        recording.read(begin, begin + window),
        frame_rate_hz=config.frame_rate_hz,
        wavelength_m=config.wavelength_m,
    )
    verdict = features.verdicts()
    return _Scan(begin / config.frame_rate_hz, features, verdict, _bodies(features, verdict, radius_bins))
