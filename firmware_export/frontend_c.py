"""``NAME_frontend.c/.h``: the log-mel frontend in portable C99 for the firmware.

The C code turns 16-bit PCM into the model's input windows by the same steps as
:mod:`sensing.audio.features`: periodic Hann window, real FFT, power spectrum,
Slaney mel filterbank, scaled log, the window's level normalisation (values
measured from the window's largest, clipped ``dynamic_range_db`` below it;
:func:`sensing.audio.features.level_normalised`), then delta and delta-delta within
each window. Beside each frame it keeps the frame's level in the cough band
(:func:`sensing.audio.features.band_level_db`), which the event rules count coughs
with. Every numeric table (window, FFT twiddles, mel weights, delta
coefficients) is computed here from :mod:`sensing.audio.features` and emitted as a
``static const float`` array, so the device runs no trigonometry and the two
implementations cannot drift apart in their constants. The C code uses no heap
and no global mutable state; arithmetic is float32. ``tests/test_firmware_frontend.py``
compiles the output and pins it to ``clip_features`` within the tolerances below.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from string import Template

import numpy as np

from firmware_export.c_source import c_float, check_name, generated_comment
from sensing.audio.features import ONSET_BAND_HZ, FeatureSettings, delta, hann_window, mel_filterbank
from sensing.errors import SensingError
from sensing.files import write_atomically

LOG_MEL_TOLERANCE = 1e-4
"""Largest absolute difference allowed between the C and numpy scaled log-mel (channel 0).

Measured with gcc -O2 on x86-64: 5e-7 on a synthetic cough in noise, 0 on silence,
5e-5 on a full-scale chirp from 50 Hz to 8 kHz. The C FFT is float32 where numpy's
is float64, so a band 80 dB or more below the loudest one carries the largest
relative error.
"""

LEVEL_TOLERANCE_DB = 0.01
"""Largest absolute difference allowed between the C frame levels in the cough band and
:func:`sensing.audio.features.band_level_db`, dB. Measured with gcc -O2 on x86-64: 2e-5 dB
where the band holds the sound, 0.0033 dB at -98 dBFS (a chirp outside the band, where the
float32 FFT's leakage error shows); cough counting works with steps of 4 and 8 dB."""

DELTA_TOLERANCE = 1e-4
"""Largest absolute difference allowed between the C and numpy delta and delta-delta channels.

Measured as above: 2.4e-7 on the cough, 6e-8 on silence, 2e-5 on the chirp. The
deltas are weighted sums of log-mel values and inherit their error.
"""

CHANNELS = 3
"""Channels of the model input: scaled log-mel, delta, delta-delta."""

_FLOATS_PER_ROW = 6
_INTS_PER_ROW = 12


def write_frontend(settings: FeatureSettings, out_dir: Path, name: str) -> list[Path]:
    """Write ``NAME_frontend.h`` and ``NAME_frontend.c`` into ``out_dir``.

    Args:
        settings: the feature settings the model was trained with.
        out_dir: an existing folder.
        name: prefix of the files, the C identifiers (``name_frontend_push``)
            and the macros (``NAME_FRONTEND_N_MELS``).

    Returns:
        The two paths written, header first.

    Raises:
        SensingError: ``name`` is not a C identifier, ``n_fft`` is not a power of
            two in [4, 65536], or ``hop_length`` exceeds ``n_fft``.
    """
    check_name(name)
    _check_settings(settings)
    names = {"p": name, "M": f"{name.upper()}_FRONTEND"}  # ${p}: C prefix, ${M}: macro prefix
    header_path = out_dir / f"{name}_frontend.h"
    source_path = out_dir / f"{name}_frontend.c"
    write_atomically(
        header_path,
        _comment(f"Log-mel frontend of the {name} model: declarations.", settings)
        + Template(_HEADER).substitute(
            names,
            macros=_macros(settings, names["M"]),
            log_mel_tolerance=f"{LOG_MEL_TOLERANCE:g}",
            delta_tolerance=f"{DELTA_TOLERANCE:g}",
        ),
    )
    write_atomically(
        source_path,
        _comment(f"Log-mel frontend of the {name} model: code and tables.", settings)
        + Template(_SOURCE).substitute(
            names, header=header_path.name, tables=_tables(settings, name, names["M"])
        ),
    )
    return [header_path, source_path]


def _check_settings(settings: FeatureSettings) -> None:
    """Raise :class:`SensingError` for settings the C frontend cannot implement."""
    n_fft = settings.n_fft
    if n_fft < 4 or n_fft > 65536 or n_fft & (n_fft - 1):
        raise SensingError(
            f"feature settings n_fft={n_fft}: the C frontend's radix-2 FFT needs a "
            f"power of two between 4 and 65536 (for example 512)"
        )
    if settings.hop_length > n_fft:
        raise SensingError(
            f"feature settings hop_length={settings.hop_length}: the C frontend "
            f"needs hop_length <= n_fft ({n_fft})"
        )


def _comment(what: str, settings: FeatureSettings) -> str:
    """Generated-file comment followed by one ``//   field = value`` line per setting."""
    fields = "".join(f"//   {key} = {value!r}\n" for key, value in dataclasses.asdict(settings).items())
    return (
        generated_comment(what, "the feature settings below")
        + "// Feature settings (sensing.audio.features.FeatureSettings):\n"
        + fields
    )


def _rows(items: list[str], per_row: int) -> str:
    """``items`` comma-separated, ``per_row`` per indented line."""
    return "\n".join(
        "    " + ", ".join(items[start : start + per_row]) + "," for start in range(0, len(items), per_row)
    )


def _float_array(name: str, size: str, values: np.ndarray, doc: str) -> str:
    """``static const float name[size]`` holding ``values`` (1-D), with a ``doc`` comment."""
    literals = [c_float(value) for value in np.ravel(values)]
    return f"// {doc}\nstatic const float {name}[{size}] = {{\n{_rows(literals, _FLOATS_PER_ROW)}\n}};\n"


def _int_array(name: str, size: str, values: list[int], doc: str) -> str:
    """``static const uint16_t name[size]`` holding ``values``, with a ``doc`` comment."""
    literals = [str(value) for value in values]
    return f"// {doc}\nstatic const uint16_t {name}[{size}] = {{\n{_rows(literals, _INTS_PER_ROW)}\n}};\n"


def _mel_bands(settings: FeatureSettings) -> tuple[list[int], list[int], np.ndarray]:
    """The mel filterbank without its zeros.

    Returns:
        ``(first_bin, bin_count, weights)``: per band, the first FFT bin with a
        nonzero weight and the number of bins up to its last nonzero weight
        (both length ``n_mels``; 0 and 0 for an empty band), and every band's
        weights over those bins, concatenated (float32, length ``sum(bin_count)``).
    """
    first_bin, bin_count, weights = [], [], []
    for band in mel_filterbank(settings):
        nonzero = np.flatnonzero(band)
        first = int(nonzero[0]) if nonzero.size else 0
        count = int(nonzero[-1]) + 1 - first if nonzero.size else 0
        first_bin.append(first)
        bin_count.append(count)
        weights.append(band[first : first + count])
    return first_bin, bin_count, np.concatenate(weights).astype(np.float32)


def _delta_weights(settings: FeatureSettings, order: int) -> np.ndarray:
    """Regression weights of :func:`sensing.audio.features.delta` for frames -w//2 .. w//2, float32 (w,)."""
    width = settings.delta_width
    return delta(np.eye(width, dtype=np.float32), order=order, width=width)[width // 2]


def _macros(settings: FeatureSettings, prefix: str) -> str:
    """``#define`` lines for the settings and buffer sizes, each with a comment."""
    frequencies_hz = np.fft.rfftfreq(settings.n_fft, 1.0 / settings.sr)
    low, high = ONSET_BAND_HZ
    in_band = np.flatnonzero((frequencies_hz >= low) & (frequencies_hz <= high))
    first_bin, last_bin = int(in_band[0]), int(in_band[-1])
    band_scale = 2.0 / (settings.n_fft * float(np.sum(np.square(hann_window(settings.n_fft)))))
    macros = [
        ("SAMPLE_RATE", str(settings.sr), "audio sample rate, Hz"),
        ("N_FFT", str(settings.n_fft), "samples per frame and FFT length"),
        ("HOP_LENGTH", str(settings.hop_length), "samples between the starts of two frames"),
        ("N_BINS", f"({prefix}_N_FFT / 2 + 1)", "FFT bins of one frame's power spectrum"),
        ("N_MELS", str(settings.n_mels), "mel bands per frame"),
        ("LOG_FLOOR", c_float(settings.log_floor), "added to the mel power before the log"),
        ("LOG_OFFSET", f"({c_float(settings.log_offset)})", "subtracted from the log ..."),
        ("LOG_SCALE", c_float(settings.log_scale), "... which is then divided by this"),
        (
            "LEVEL_WINDOW_PEAK",
            "1" if settings.level == "window-peak" else "0",
            (
                "1: a window's values are measured from its largest and clipped at -NORMALISED_SPAN "
                "(gain-invariant); 0: absolute"
            ),
        ),
        (
            "NORMALISED_SPAN",
            c_float(settings.normalised_span),
            "dynamic_range_db as a scaled log: the span of normalised values",
        ),
        (
            "PEAK_FLOOR",
            f"({c_float(settings.scaled_peak_floor)})",
            "the least peak a window is measured from (peak_floor as a scaled log)",
        ),
        ("BAND_FIRST_BIN", str(first_bin), f"first FFT bin of the cough band ({low:g}-{high:g} Hz)"),
        ("BAND_LAST_BIN", str(last_bin), "last FFT bin of the cough band"),
        (
            "BAND_SCALE",
            c_float(band_scale),
            "band power to mean square: 2 / (N_FFT * sum of the squared window)",
        ),
        ("WINDOW_FRAMES", str(settings.window_frames), "frames per model window"),
        ("WINDOW_HOP_FRAMES", str(settings.window_hop_frames), "frames between two model windows"),
        ("DELTA_WIDTH", str(settings.delta_width), "frames in the delta regression (odd)"),
        ("CHANNELS", str(CHANNELS), "log-mel, delta, delta-delta"),
        ("FRAME_SIZE", f"{prefix}_N_FFT", "floats: one frame of samples (log_mel_frame input)"),
        (
            "SCRATCH_SIZE",
            f"({prefix}_N_FFT + {prefix}_N_BINS)",
            "floats: scratch of log_mel_frame (spectrum, then power)",
        ),
        (
            "HISTORY_SIZE",
            f"({prefix}_WINDOW_FRAMES * {prefix}_N_MELS)",
            "floats: the last WINDOW_FRAMES log-mel frames",
        ),
        (
            "WINDOW_SIZE",
            f"({prefix}_WINDOW_FRAMES * {prefix}_N_MELS * {prefix}_CHANNELS)",
            "floats: one model window, [frame][mel][channel]",
        ),
    ]
    return "".join(f"// {doc}\n#define {prefix}_{key} {value}\n" for key, value, doc in macros)


def _tables(settings: FeatureSettings, name: str, prefix: str) -> str:
    """The ``static const`` tables of the C source."""
    angles = np.arange(settings.n_fft // 2) * 2 * np.pi / settings.n_fft
    first_bin, bin_count, weights = _mel_bands(settings)
    return "\n".join(
        [
            _float_array(
                f"{name}_hann",
                f"{prefix}_N_FFT",
                hann_window(settings.n_fft),
                "Periodic Hann window: 0.5 - 0.5 cos(2 pi i / N_FFT).",
            ),
            _float_array(
                f"{name}_twiddle_cos",
                f"{prefix}_N_FFT / 2",
                np.cos(angles),
                "cos(2 pi k / N_FFT) for k < N_FFT / 2.",
            ),
            _float_array(
                f"{name}_twiddle_sin",
                f"{prefix}_N_FFT / 2",
                np.sin(angles),
                "sin(2 pi k / N_FFT) for k < N_FFT / 2.",
            ),
            _int_array(
                f"{name}_mel_first_bin",
                f"{prefix}_N_MELS",
                first_bin,
                "First FFT bin with a nonzero weight, per mel band.",
            ),
            _int_array(
                f"{name}_mel_bin_count",
                f"{prefix}_N_MELS",
                bin_count,
                "Bins from the first to the last nonzero weight, per mel band.",
            ),
            _float_array(
                f"{name}_mel_weights",
                str(weights.size),
                weights,
                "Slaney mel weights of those bins, band after band.",
            ),
            _float_array(
                f"{name}_delta_weights",
                f"2 * {prefix}_DELTA_WIDTH",
                np.concatenate([_delta_weights(settings, 1), _delta_weights(settings, 2)]),
                "Delta, then delta-delta, regression weights for frames -DELTA_WIDTH/2 .. DELTA_WIDTH/2.",
            ),
        ]
    )


_HEADER = """\
#ifndef ${M}_H_
#define ${M}_H_

// Log-mel frontend: 16-bit PCM in, model input windows out.
//
// Arithmetic is float32 throughout; logf() comes from <math.h> (link with -lm).
// All tables are precomputed constants. No heap, no global mutable state: the
// caller owns every buffer, including the state struct (static or on the stack).
//
// Audio: mono, ${M}_SAMPLE_RATE Hz, int16 samples (value / 32768 lies in [-1, 1)).
// Frame i covers samples [i * HOP_LENGTH, i * HOP_LENGTH + N_FFT) since init.
// Per frame: periodic Hann window, real FFT of N_FFT points, power |X|^2, Slaney
// mel filterbank, then (ln(mel_power + LOG_FLOOR) - LOG_OFFSET) / LOG_SCALE.
// A model window is WINDOW_FRAMES consecutive frames stored as
// float[frame][mel][channel] (oldest frame first), channels: scaled log-mel, its
// delta and its delta-delta, regressions over DELTA_WIDTH frames computed within
// the window with the window's edge frames repeated. With LEVEL_WINDOW_PEAK the
// log-mel channel is first measured from the window's largest value (at least
// PEAK_FLOOR): max(value - peak, -NORMALISED_SPAN) + NORMALISED_SPAN / 2, so the
// window does not depend on the input gain.
//
// A window is due every WINDOW_HOP_FRAMES frames once WINDOW_FRAMES frames exist
// (start frames 0, WINDOW_HOP_FRAMES, 2 * WINDOW_HOP_FRAMES, ...). Push stops
// consuming audio when one is due, so the caller's loop takes every window:
//
//   static ${p}_frontend_state state;
//   static float input[${M}_WINDOW_SIZE];
//   ${p}_frontend_init(&state);
//   // for each chunk of audio (pcm, n), of any length:
//   while (n > 0) {
//     size_t used;
//     ${p}_frontend_push(&state, pcm, n, &used);
//     pcm += used;
//     n -= used;
//     if (${p}_frontend_window_ready(&state)) {
//       ${p}_frontend_window(&state, input);
//       // copy input into the model's input tensor and invoke the model
//     }
//   }
//
// The windows match sensing.audio.features.clip_features() for the same audio within
// ${log_mel_tolerance} absolute on the log-mel channel and ${delta_tolerance} on the delta channels
// (checked by the sensing toolkit's tests/test_firmware_frontend.py).

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

${macros}
// Frontend state; the caller allocates it and calls ${p}_frontend_init() once.
typedef struct {
  // The partial frame: the latest samples, divided by 32768.
  float samples[${M}_N_FFT];
  // Spectrum, then power, of the frame being computed.
  float scratch[${M}_SCRATCH_SIZE];
  // Ring of the last WINDOW_FRAMES scaled log-mel frames, N_MELS floats each.
  float history[${M}_HISTORY_SIZE];
  // The same frames' levels in the cough band, dBFS.
  float levels[${M}_WINDOW_FRAMES];
  // Samples held in samples[].
  size_t n_samples;
  // History row the next frame goes to: the oldest frame once the ring is full.
  int next_row;
  // Frames in history, at most WINDOW_FRAMES.
  int frames_held;
  // Frames until the next window is due.
  int frames_to_window;
  // Whether the last push ended on a frame that completes a window.
  bool window_due;
} ${p}_frontend_state;

// Empty the state: no samples, no frames, the first window is due after WINDOW_FRAMES frames.
void ${p}_frontend_init(${p}_frontend_state *state);

// Consume up to n_samples samples of pcm, computing each frame they complete.
// Stops early right after a frame that makes a window due (see
// ${p}_frontend_window_ready). Sets *consumed to the samples used and returns the
// number of frames completed.
int ${p}_frontend_push(${p}_frontend_state *state, const int16_t *pcm, size_t n_samples,
    size_t *consumed);

// Whether the last push ended on a frame that completes a window.
bool ${p}_frontend_window_ready(const ${p}_frontend_state *state);

// Write the latest WINDOW_FRAMES frames as a model window (${M}_WINDOW_SIZE floats,
// [frame][mel][channel]) into out. Returns 0, or -1 (out untouched) while fewer
// than WINDOW_FRAMES frames have been seen.
int ${p}_frontend_window(const ${p}_frontend_state *state, float *out);

// Write the current window quantized for an int8 model input: q = round(x / scale)
// + zero_point (to nearest, ties to even, as numpy and TFLite), clamped to [-128, 127];
// out holds ${M}_WINDOW_SIZE values. Returns 0, or -1 while no window is complete. Needs no
// float buffer of the window's size.
int ${p}_frontend_window_int8(const ${p}_frontend_state *state, float scale, int zero_point,
    int8_t *out);

// Write the current window's frame levels in the cough band (dBFS, oldest frame first,
// ${M}_WINDOW_FRAMES values) into out_db; as sensing.audio.features.band_level_db.
void ${p}_frontend_window_levels(const ${p}_frontend_state *state, float *out_db);

// Scaled log-mel of one frame without any state: frame holds ${M}_FRAME_SIZE
// samples in [-1, 1] (not yet windowed), scratch ${M}_SCRATCH_SIZE floats,
// out_mels receives ${M}_N_MELS floats.
void ${p}_frontend_log_mel_frame(const float *frame, float *scratch, float *out_mels);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // ${M}_H_
"""

_SOURCE = """\
#include "${header}"

#include <math.h>
#include <string.h>

${tables}
// In-place iterative radix-2 FFT of N_FFT / 2 complex values z (re, im interleaved).
static void ${p}_fft(float *z) {
  const int n = ${M}_N_FFT / 2;
  for (int i = 1, j = 0; i < n; i++) {  // bit-reversal permutation
    int bit = n >> 1;
    for (; j & bit; bit >>= 1) {
      j ^= bit;
    }
    j ^= bit;
    if (i < j) {
      const float re = z[2 * i];
      const float im = z[2 * i + 1];
      z[2 * i] = z[2 * j];
      z[2 * i + 1] = z[2 * j + 1];
      z[2 * j] = re;
      z[2 * j + 1] = im;
    }
  }
  for (int length = 2; length <= n; length <<= 1) {
    const int half = length / 2;
    const int stride = ${M}_N_FFT / length;  // exp(-2 pi i k / length) = twiddle[k * stride]
    for (int start = 0; start < n; start += length) {
      for (int k = 0; k < half; k++) {
        const float w_re = ${p}_twiddle_cos[k * stride];
        const float w_im = -${p}_twiddle_sin[k * stride];
        float *a = z + 2 * (start + k);
        float *b = a + 2 * half;
        const float t_re = b[0] * w_re - b[1] * w_im;
        const float t_im = b[0] * w_im + b[1] * w_re;
        b[0] = a[0] - t_re;
        b[1] = a[1] - t_im;
        a[0] += t_re;
        a[1] += t_im;
      }
    }
  }
}

// Power |X[k]|^2, k = 0 .. N_FFT / 2, of the real FFT of the N_FFT real samples in
// z, which are read as N_FFT / 2 complex values (even samples real, odd imaginary)
// and overwritten.
static void ${p}_power_spectrum(float *z, float *power) {
  const int n = ${M}_N_FFT / 2;
  ${p}_fft(z);
  power[0] = (z[0] + z[1]) * (z[0] + z[1]);
  power[n] = (z[0] - z[1]) * (z[0] - z[1]);
  for (int k = 1; k <= n / 2; k++) {
    // X[k] = E + W^k O and X[n - k] = conj(E - W^k O), with E, O the spectra of
    // the even and odd samples, taken from Z[k] and Z[n - k].
    const float *a = z + 2 * k;
    const float *b = z + 2 * (n - k);
    const float e_re = 0.5f * (a[0] + b[0]);
    const float e_im = 0.5f * (a[1] - b[1]);
    const float o_re = 0.5f * (a[1] + b[1]);
    const float o_im = -0.5f * (a[0] - b[0]);
    const float w_re = ${p}_twiddle_cos[k];
    const float w_im = -${p}_twiddle_sin[k];
    const float t_re = w_re * o_re - w_im * o_im;
    const float t_im = w_re * o_im + w_im * o_re;
    power[k] = (e_re + t_re) * (e_re + t_re) + (e_im + t_im) * (e_im + t_im);
    power[n - k] = (e_re - t_re) * (e_re - t_re) + (e_im - t_im) * (e_im - t_im);
  }
}

void ${p}_frontend_log_mel_frame(const float *frame, float *scratch, float *out_mels) {
  float *spectrum = scratch;
  float *power = scratch + ${M}_N_FFT;
  for (int i = 0; i < ${M}_N_FFT; i++) {
    spectrum[i] = frame[i] * ${p}_hann[i];
  }
  ${p}_power_spectrum(spectrum, power);
  const float *weights = ${p}_mel_weights;
  for (int band = 0; band < ${M}_N_MELS; band++) {
    const float *bins = power + ${p}_mel_first_bin[band];
    const int count = ${p}_mel_bin_count[band];
    float mel_power = 0.0f;
    for (int i = 0; i < count; i++) {
      mel_power += weights[i] * bins[i];
    }
    weights += count;
    out_mels[band] = (logf(mel_power + ${M}_LOG_FLOOR) - ${M}_LOG_OFFSET) / ${M}_LOG_SCALE;
  }
}

void ${p}_frontend_init(${p}_frontend_state *state) {
  memset(state, 0, sizeof(*state));
  state->frames_to_window = ${M}_WINDOW_FRAMES;
}

// Compute the frame held in state->samples into the history, then drop HOP_LENGTH samples.
static void ${p}_add_frame(${p}_frontend_state *state) {
  float *row = state->history + state->next_row * ${M}_N_MELS;
  ${p}_frontend_log_mel_frame(state->samples, state->scratch, row);
  const float *power = state->scratch + ${M}_N_FFT;  // left there by log_mel_frame
  float band_power = 0.0f;
  for (int bin = ${M}_BAND_FIRST_BIN; bin <= ${M}_BAND_LAST_BIN; bin++) {
    band_power += power[bin];
  }
  state->levels[state->next_row] = 10.0f * log10f(band_power * ${M}_BAND_SCALE + 1e-10f);
  state->next_row = (state->next_row + 1) % ${M}_WINDOW_FRAMES;
  if (state->frames_held < ${M}_WINDOW_FRAMES) {
    state->frames_held++;
  }
  if (--state->frames_to_window == 0) {
    state->window_due = true;
    state->frames_to_window = ${M}_WINDOW_HOP_FRAMES;
  }
  const size_t kept = ${M}_N_FFT - ${M}_HOP_LENGTH;
  memmove(state->samples, state->samples + ${M}_HOP_LENGTH, kept * sizeof(float));
  state->n_samples = kept;
}

int ${p}_frontend_push(${p}_frontend_state *state, const int16_t *pcm, size_t n_samples,
    size_t *consumed) {
  int frames = 0;
  size_t used = 0;
  state->window_due = false;
  while (used < n_samples && !state->window_due) {
    while (used < n_samples && state->n_samples < ${M}_N_FFT) {
      state->samples[state->n_samples++] = (float)pcm[used++] / 32768.0f;
    }
    if (state->n_samples == ${M}_N_FFT) {
      ${p}_add_frame(state);
      frames++;
    }
  }
  *consumed = used;
  return frames;
}

bool ${p}_frontend_window_ready(const ${p}_frontend_state *state) {
  return state->window_due;
}

// Model value (level-normalised scaled log-mel) of frame `frame` of the current
// window (0 = oldest) in `band`, given the window's largest scaled log-mel `peak`;
// frames outside the window read its nearest edge frame.
static float ${p}_window_value(const ${p}_frontend_state *state, int frame, int band, float peak) {
  if (frame < 0) {
    frame = 0;
  } else if (frame >= ${M}_WINDOW_FRAMES) {
    frame = ${M}_WINDOW_FRAMES - 1;
  }
  const int row = (state->next_row + frame) % ${M}_WINDOW_FRAMES;
  const float value = state->history[row * ${M}_N_MELS + band];
#if ${M}_LEVEL_WINDOW_PEAK
  const float relative = value - peak;
  return (relative > -${M}_NORMALISED_SPAN ? relative : -${M}_NORMALISED_SPAN)
      + 0.5f * ${M}_NORMALISED_SPAN;
#else
  (void)peak;
  return value;
#endif
}

// Compute the current window into out (floats) or, when out is NULL, quantized into out_q.
static int ${p}_write_window(const ${p}_frontend_state *state, float *out, float scale,
    int zero_point, int8_t *out_q) {
  if (state->frames_held < ${M}_WINDOW_FRAMES) {
    return -1;
  }
  float peak = ${M}_PEAK_FLOOR;
  for (int i = 0; i < ${M}_HISTORY_SIZE; i++) {
    peak = state->history[i] > peak ? state->history[i] : peak;
  }
  const float *slope_weights = ${p}_delta_weights;
  const float *curve_weights = ${p}_delta_weights + ${M}_DELTA_WIDTH;
  for (int frame = 0; frame < ${M}_WINDOW_FRAMES; frame++) {
    for (int band = 0; band < ${M}_N_MELS; band++) {
      float slope = 0.0f;
      float curve = 0.0f;
      for (int k = 0; k < ${M}_DELTA_WIDTH; k++) {
        const float value = ${p}_window_value(state, frame + k - ${M}_DELTA_WIDTH / 2, band, peak);
        slope += slope_weights[k] * value;
        curve += curve_weights[k] * value;
      }
      const float cell[${M}_CHANNELS] = {${p}_window_value(state, frame, band, peak), slope, curve};
      const int at = (frame * ${M}_N_MELS + band) * ${M}_CHANNELS;
      for (int channel = 0; channel < ${M}_CHANNELS; channel++) {
        if (out != NULL) {
          out[at + channel] = cell[channel];
        } else {
          const float q = rintf(cell[channel] / scale) + (float)zero_point;
          out_q[at + channel] = (int8_t)(q < -128.0f ? -128.0f : (q > 127.0f ? 127.0f : q));
        }
      }
    }
  }
  return 0;
}

int ${p}_frontend_window(const ${p}_frontend_state *state, float *out) {
  return ${p}_write_window(state, out, 1.0f, 0, NULL);
}

int ${p}_frontend_window_int8(const ${p}_frontend_state *state, float scale, int zero_point,
    int8_t *out) {
  return ${p}_write_window(state, NULL, scale, zero_point, out);
}

void ${p}_frontend_window_levels(const ${p}_frontend_state *state, float *out_db) {
  for (int frame = 0; frame < ${M}_WINDOW_FRAMES; frame++) {
    out_db[frame] = state->levels[(state->next_row + frame) % ${M}_WINDOW_FRAMES];
  }
}
"""
