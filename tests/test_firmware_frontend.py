"""The generated C frontend is pinned to sensing.audio.features: same PCM in, same model windows out.

A small host program streams int16 PCM through ``NAME_frontend_push`` in odd-sized
chunks and writes every window it is handed, with its frame levels and its int8 form;
the tests compare those windows with ``clip_features`` for the windows that start on the
same frame, and the levels with ``band_level_db``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from firmware_export.frontend_c import (
    DELTA_TOLERANCE,
    LEVEL_TOLERANCE_DB,
    LOG_MEL_TOLERANCE,
    write_frontend,
)
from sensing.audio.features import FeatureSettings, band_level_db, clip_features, power_spectrum
from sensing.errors import SensingError
from sensing.synthetic import sounds

SETTINGS = FeatureSettings()
NAME = "parity"
CHUNKS = (37, 1000, 161)
"""Chunk sizes the host program cycles through: none divides the hop or the frame."""

C_FLAGS = ("-std=c99", "-Wall", "-Wextra", "-Werror", "-O2")
CXX_FLAGS = ("-std=c++17", "-Wall", "-Wextra", "-Werror")

HOST_PROGRAM = r"""
// Streams raw int16 PCM through the frontend; writes each window as int32 start frame, its
// floats, its frame levels in the cough band, and the window quantized with scale 1/16, zero -3.
// Usage: host PCM_FILE OUT_FILE CHUNK [CHUNK ...]
#include <stdio.h>
#include <stdlib.h>

#include "parity_frontend.h"

static parity_frontend_state state;
static float window[PARITY_FRONTEND_WINDOW_SIZE];
static float levels[PARITY_FRONTEND_WINDOW_FRAMES];
static int8_t quantized[PARITY_FRONTEND_WINDOW_SIZE];

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PCM_FILE OUT_FILE CHUNK...\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  FILE *out = fopen(argv[2], "wb");
  if (in == NULL || out == NULL) {
    fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
    return 2;
  }
  fseek(in, 0, SEEK_END);
  const size_t total = (size_t)ftell(in) / sizeof(int16_t);
  fseek(in, 0, SEEK_SET);
  int16_t *pcm = (int16_t *)malloc(total * sizeof(int16_t) + 1);
  if (pcm == NULL || fread(pcm, sizeof(int16_t), total, in) != total) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  parity_frontend_init(&state);
  long frames = 0;
  size_t position = 0;
  for (int chunk = 0; position < total; chunk = (chunk + 1) % (argc - 3)) {
    size_t n = (size_t)atol(argv[3 + chunk]);
    if (n > total - position) {
      n = total - position;
    }
    const int16_t *samples = pcm + position;
    position += n;
    while (n > 0) {
      size_t used = 0;
      frames += parity_frontend_push(&state, samples, n, &used);
      samples += used;
      n -= used;
      if (parity_frontend_window_ready(&state)) {
        const int32_t start = (int32_t)(frames - PARITY_FRONTEND_WINDOW_FRAMES);
        if (parity_frontend_window(&state, window) != 0) {
          fprintf(stderr, "window refused after %ld frames\n", frames);
          return 1;
        }
        parity_frontend_window_levels(&state, levels);
        if (parity_frontend_window_int8(&state, 0.0625f, -3, quantized) != 0) {
          fprintf(stderr, "int8 window refused after %ld frames\n", frames);
          return 1;
        }
        fwrite(&start, sizeof(start), 1, out);
        fwrite(window, sizeof(float), PARITY_FRONTEND_WINDOW_SIZE, out);
        fwrite(levels, sizeof(float), PARITY_FRONTEND_WINDOW_FRAMES, out);
        fwrite(quantized, 1, PARITY_FRONTEND_WINDOW_SIZE, out);
      }
    }
  }
  free(pcm);
  fclose(in);
  return fclose(out) == 0 ? 0 : 1;
}
"""

OTHER_SETTINGS = FeatureSettings(
    sr=8000,
    n_fft=256,
    hop_length=256,
    n_mels=24,
    fmax=4000.0,
    window_frames=20,
    window_hop_frames=7,
    delta_width=7,
    level="absolute",
    log_floor=1e-6,
)
"""Settings unlike the defaults in every size: frames that do not overlap, a wider delta, and the
older absolute (fixed-floor) log-mel."""


class Host(NamedTuple):
    """The host program and the settings its frontend was generated from."""

    path: Path
    settings: FeatureSettings


def _compiler(*names: str) -> str:
    """Path of the first compiler found among ``names``, or skip the test."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip(f"no C/C++ compiler found (looked for {', '.join(names)})")


def _compile(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stderr}"


def _build_host(settings: FeatureSettings, build: Path) -> Host:
    """Generate the frontend for ``settings`` into ``build`` and compile the host program with it."""
    cc = _compiler("gcc", "cc")
    write_frontend(settings, build, NAME)
    (build / "host.c").write_text(HOST_PROGRAM)
    _compile(
        [
            cc,
            *C_FLAGS,
            "-I",
            str(build),
            str(build / "host.c"),
            str(build / f"{NAME}_frontend.c"),
            "-o",
            str(build / "host"),
            "-lm",
        ]
    )
    return Host(build / "host", settings)


@pytest.fixture(scope="module")
def host(tmp_path_factory) -> Host:
    """The host program built against the frontend generated for the default settings."""
    return _build_host(SETTINGS, tmp_path_factory.mktemp("frontend"))


def _cough_pcm(seconds: float = 3.0, sr: int = SETTINGS.sr) -> np.ndarray:
    """A synthetic cough bout at 0.8 s in pink noise 30 dB below it, int16 (n,) at ``sr`` Hz."""
    rng = np.random.default_rng(7)
    event = sounds.cough(rng, speaker=sounds.random_speaker(rng), n_coughs=2, sr=sr)
    audio = sounds.mix(
        sounds.place(0.6 * event, duration_s=seconds, start_s=0.8, sr=sr),
        sounds.noise(rng, duration_s=seconds, color="pink", sr=sr),
        snr_db=30.0,
    )
    return _to_pcm(audio)


def _to_pcm(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)


def _c_records(host: Host, pcm: np.ndarray, work: Path, chunks=CHUNKS) -> np.ndarray:
    """The C frontend's windows: records of start frame, features (window_frames, n_mels, 3),
    levels (window_frames,) and the int8 window (scale 1/16, zero point -3)."""
    pcm_path, out_path = work / "audio.pcm", work / "windows.bin"
    pcm.astype("<i2").tofile(pcm_path)
    result = subprocess.run(
        [str(host.path), str(pcm_path), str(out_path), *map(str, chunks)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    shape = host.settings.input_shape
    record = np.dtype(
        [("start", "<i4"), ("features", "<f4", shape), ("levels", "<f4", shape[0]), ("int8", "i1", shape)]
    )
    return np.fromfile(out_path, dtype=record)


def _c_windows(host: Host, pcm: np.ndarray, work: Path, chunks=CHUNKS) -> dict[int, np.ndarray]:
    """Start frame -> (window_frames, n_mels, 3) window from the C frontend."""
    return {int(record["start"]): record["features"] for record in _c_records(host, pcm, work, chunks)}


def _python_windows(pcm: np.ndarray, settings: FeatureSettings) -> dict[int, np.ndarray]:
    """Start frame -> window from ``clip_features`` (the clip is longer than one window)."""
    features, start_s = clip_features((pcm / 32768.0).astype(np.float32), settings)
    starts = np.rint(start_s * settings.sr / settings.hop_length).astype(int)
    return dict(zip(starts.tolist(), features))


def _max_differences(host: Host, pcm: np.ndarray, work: Path) -> tuple[float, float]:
    """Largest |C - numpy| of the log-mel channel and of the delta channels, over shared windows."""
    ours, reference = _c_windows(host, pcm, work), _python_windows(pcm, host.settings)
    shared = sorted(set(ours) & set(reference))  # numpy adds one window aligned to the clip's end
    assert shared == sorted(ours) and len(shared) >= 2
    difference = np.abs(np.stack([ours[s] for s in shared]) - np.stack([reference[s] for s in shared]))
    return float(difference[..., 0].max()), float(difference[..., 1:].max())


def _chirp_pcm(seconds: float = 3.0) -> np.ndarray:
    """A full-scale chirp from 50 Hz to 8 kHz, int16 (n,): quiet bands 80 dB below the loud one."""
    t = np.arange(sounds.n_samples(seconds)) / SETTINGS.sr
    sweep_hz_per_s = (SETTINGS.fmax - SETTINGS.fmin) / seconds
    return _to_pcm(0.99 * np.sin(2 * np.pi * (SETTINGS.fmin * t + 0.5 * sweep_hz_per_s * t**2)))


@pytest.mark.parametrize("make_pcm", [_cough_pcm, _chirp_pcm], ids=["cough", "chirp"])
def test_windows_match_clip_features(host, tmp_path, make_pcm):
    log_mel_error, delta_error = _max_differences(host, make_pcm(), tmp_path)
    assert log_mel_error <= LOG_MEL_TOLERANCE
    assert delta_error <= DELTA_TOLERANCE


def test_other_settings_match_clip_features(tmp_path):
    host = _build_host(OTHER_SETTINGS, tmp_path)
    log_mel_error, delta_error = _max_differences(host, _cough_pcm(sr=OTHER_SETTINGS.sr), tmp_path)
    assert log_mel_error <= LOG_MEL_TOLERANCE
    assert delta_error <= DELTA_TOLERANCE


def test_silence_matches_clip_features(host, tmp_path):
    silence = np.zeros(2 * SETTINGS.sr, dtype=np.int16)
    windows = _c_windows(host, silence, tmp_path)
    assert windows and all(np.isfinite(window).all() for window in windows.values())
    log_mel_error, delta_error = _max_differences(host, silence, tmp_path)
    assert log_mel_error <= LOG_MEL_TOLERANCE
    assert delta_error <= DELTA_TOLERANCE


def test_chunk_size_does_not_change_windows(host, tmp_path):
    pcm = _cough_pcm(seconds=2.0)
    in_odd_chunks = _c_windows(host, pcm, tmp_path)
    sample_by_sample = _c_windows(host, pcm, tmp_path, chunks=(1,))
    whole = _c_windows(host, pcm, tmp_path, chunks=(pcm.size,))
    assert sorted(in_odd_chunks) == sorted(sample_by_sample) == sorted(whole)
    for start, window in in_odd_chunks.items():
        np.testing.assert_array_equal(window, sample_by_sample[start])
        np.testing.assert_array_equal(window, whole[start])


@pytest.mark.parametrize("make_pcm", [_cough_pcm, _chirp_pcm], ids=["cough", "chirp"])
def test_frame_levels_match_band_level_db(host, tmp_path, make_pcm):
    pcm = make_pcm()
    records = _c_records(host, pcm, tmp_path)
    power = power_spectrum((pcm / 32768.0).astype(np.float32), SETTINGS)
    reference = band_level_db(power, SETTINGS)
    frames = SETTINGS.window_frames
    for record in records:
        expected = reference[record["start"] : record["start"] + frames]
        np.testing.assert_allclose(record["levels"], expected, atol=LEVEL_TOLERANCE_DB)


def test_int8_windows_are_the_float_windows_quantized(host, tmp_path):
    records = _c_records(host, _cough_pcm(), tmp_path)
    expected = np.clip(np.rint(records["features"] / np.float32(0.0625)) - 3, -128, 127)
    np.testing.assert_array_equal(records["int8"], expected.astype(np.int8))


def test_compiles_as_cpp(tmp_path):
    cxx = _compiler("g++", "c++")
    write_frontend(SETTINGS, tmp_path, NAME)
    (tmp_path / "main.cc").write_text(
        f'#include "{NAME}_frontend.h"\n\n'
        f"static {NAME}_frontend_state state;\n"
        f"int main() {{\n  {NAME}_frontend_init(&state);\n"
        f"  return {NAME}_frontend_window_ready(&state) ? 1 : 0;\n}}\n"
    )
    _compile([cxx, *CXX_FLAGS, "-c", str(tmp_path / "main.cc"), "-o", str(tmp_path / "main.o")])
    _compile(
        [
            cxx,
            *CXX_FLAGS,
            "-x",
            "c++",
            "-c",
            str(tmp_path / f"{NAME}_frontend.c"),
            "-o",
            str(tmp_path / "frontend.o"),
        ]
    )


def test_files_say_how_they_were_made(tmp_path):
    paths = write_frontend(SETTINGS, tmp_path, NAME)
    assert [path.name for path in paths] == [f"{NAME}_frontend.h", f"{NAME}_frontend.c"]
    for path in paths:
        text = path.read_text()
        assert text.startswith("// ") and "Generated by `sensing export firmware`" in text
        assert f"//   n_fft = {SETTINGS.n_fft}\n" in text and f"//   n_mels = {SETTINGS.n_mels}\n" in text


def test_non_power_of_two_n_fft_is_refused(tmp_path):
    settings = FeatureSettings(n_fft=400)
    with pytest.raises(SensingError, match="n_fft=400.*power of two"):
        write_frontend(settings, tmp_path, NAME)
    assert not list(tmp_path.iterdir())


def test_bad_name_is_refused(tmp_path):
    with pytest.raises(SensingError, match="C identifiers"):
        write_frontend(SETTINGS, tmp_path, "9-lives")
