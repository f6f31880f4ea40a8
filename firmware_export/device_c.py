"""The device loop of the firmware package: ``NAME_detector.cc/.h`` and ``NAME_night.cc``.

``NAME_detector`` is what a firmware calls from its audio task: 16-bit PCM in,
events out, through the C frontend (``NAME_frontend.c``), the int8 model in
TensorFlow Lite Micro and the event rules (``NAME_events.c``), with every buffer
static. ``NAME_night.cc`` is a program around it that reads a WAV file (or raw
PCM on stdin) and prints one CSV line per event, as ``sensing detect`` writes
``events.csv``; built for the host, or for a Cortex-M4 that reads its file
through semihosting (the package's ``Makefile``). ``NAME_model_check.cc`` runs the model
on the golden features and compares its int8 outputs with the golden ones, byte for byte.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from firmware_export.c_source import generated_comment
from sensing.files import write_atomically


def write_device(*, out_dir: Path, name: str, source: str) -> list[Path]:
    """Write ``NAME_detector.h``, ``NAME_detector.cc``, ``NAME_night.cc`` and
    ``NAME_model_check.cc``; returns their paths."""
    values = {"p": name, "M": name.upper()}
    files = {
        f"{name}_detector.h": ("The device loop: audio in, events out.", _DETECTOR_HEADER),
        f"{name}_detector.cc": ("The device loop: audio in, events out.", _DETECTOR_SOURCE),
        f"{name}_night.cc": ("A night from a WAV file or stdin, events as CSV.", _NIGHT),
        f"{name}_model_check.cc": ("The model's int8 outputs against the golden ones.", _MODEL_CHECK),
    }
    paths = []
    for file_name, (what, template) in files.items():
        path = out_dir / file_name
        write_atomically(path, generated_comment(what, source) + Template(template).substitute(values))
        paths.append(path)
    return paths


_DETECTOR_HEADER = """\
#ifndef ${M}_DETECTOR_H_
#define ${M}_DETECTOR_H_

// Audio in, coughs and snore episodes out: the C frontend, the int8 model in
// TensorFlow Lite Micro and the event rules, as the sensing toolkit's
// `sensing detect` runs them. Everything is static inside ${p}_detector.cc (the
// tensor arena, the frontend's and the events' state): one detector per firmware,
// no heap. Call it from an audio task, not from the audio interrupt: each model
// window (every ${M}_WINDOW_HOP_S s) runs the model once.
//
//   static void on_event(const ${p}_event *event, void *context) { ... }
//   if (${p}_detector_init() != 0) { ... }
//   // for each block of 16-bit PCM at ${M}_FRONTEND_SAMPLE_RATE Hz, mono, of any length:
//   ${p}_detector_push(pcm, n, on_event, NULL);
//   // when the night ends:
//   ${p}_detector_finish(on_event, NULL);

#include <stddef.h>
#include <stdint.h>

#include "${p}_events.h"
#include "${p}_settings.h"

#ifdef __cplusplus
extern "C" {
#endif

// Called once for each event as soon as it is final.
typedef void (*${p}_event_callback)(const ${p}_event *event, void *context);

// A clock for ${p}_detector_stats: any monotonic counter (cycles, instructions, ns).
typedef uint64_t (*${p}_clock)(void);

// Time spent in the frontend and in the model, in the units of the clock given to
// ${p}_detector_set_clock (zero without one).
typedef struct {
  uint64_t frontend_ticks;  // computing frames and model windows
  uint64_t model_ticks;  // the model's Invoke()
  uint32_t windows;  // model windows run
  uint32_t samples;  // samples pushed
} ${p}_detector_stats;

// Set up the model (allocating its tensors in the static arena), the frontend and the
// events. Returns 0, or -1 when the model does not fit the arena or an op is missing
// (TFLite Micro prints why through its MicroPrintf).
int ${p}_detector_init(void);

// Push n samples; calls on_event for each event this audio made final. Returns 0, or -1
// when the model fails to run.
int ${p}_detector_push(const int16_t *pcm, size_t n, ${p}_event_callback on_event, void *context);

// The end of the audio: calls on_event for the events still open. Returns 0.
int ${p}_detector_finish(${p}_event_callback on_event, void *context);

// Optional: time the frontend and the model with clock (NULL: stop timing).
void ${p}_detector_set_clock(${p}_clock clock);

// What the detector has done and, with a clock, how long it took.
${p}_detector_stats ${p}_detector_get_stats(void);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // ${M}_DETECTOR_H_
"""

_DETECTOR_SOURCE = """\
#include "${p}_detector.h"

#include <new>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "${p}_model_data.h"
#include "${p}_ops.h"

namespace {

alignas(16) uint8_t tensor_arena[${M}_ARENA_SIZE];
${p}_frontend_state frontend;
${p}_events_state events;
// The op resolver and the interpreter live in static storage, constructed in place by
// init (no static constructors or destructors to run).
alignas(${p}_OpResolver) uint8_t resolver_storage[sizeof(${p}_OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *interpreter = nullptr;
float levels[${M}_FRONTEND_WINDOW_FRAMES];
float probabilities[${M}_LABEL_COUNT];
${p}_event found[${M}_MAX_EVENTS_PER_CALL];
${p}_clock timer = nullptr;
${p}_detector_stats stats;
int window_start_frame = 0;

uint64_t now() { return timer != nullptr ? timer() : 0; }

// Run the model on the frontend's current window and feed the result to the events.
int run_window(${p}_event_callback on_event, void *context) {
  TfLiteTensor *input = interpreter->input(0);
  const uint64_t started = now();
  ${p}_frontend_window_int8(&frontend, ${M}_INPUT_SCALE, ${M}_INPUT_ZERO_POINT, input->data.int8);
  ${p}_frontend_window_levels(&frontend, levels);
  const uint64_t featured = now();
  if (interpreter->Invoke() != kTfLiteOk) return -1;
  const uint64_t invoked = now();
  stats.frontend_ticks += featured - started;
  stats.model_ticks += invoked - featured;
  stats.windows++;
  const TfLiteTensor *output = interpreter->output(0);
  for (int label = 0; label < ${M}_LABEL_COUNT; label++) {
    probabilities[label] =
        ${M}_OUTPUT_SCALE * (float)(output->data.int8[label] - ${M}_OUTPUT_ZERO_POINT);
  }
  const int n = ${p}_events_update(&events, window_start_frame, probabilities, levels, found);
  for (int i = 0; i < n; i++) on_event(&found[i], context);
  window_start_frame += ${M}_FRONTEND_WINDOW_HOP_FRAMES;
  return 0;
}

}  // namespace

extern "C" int ${p}_detector_init(void) {
  ${p}_OpResolver *resolver = new (resolver_storage) ${p}_OpResolver();
  if (${p}_register_ops(*resolver) != kTfLiteOk) return -1;
  interpreter = new (interpreter_storage) tflite::MicroInterpreter(
      tflite::GetModel(${p}_model_data), *resolver, tensor_arena, ${M}_ARENA_SIZE);
  if (interpreter->AllocateTensors() != kTfLiteOk) return -1;
  ${p}_frontend_init(&frontend);
  ${p}_events_init(&events, ${p}_thresholds);
  stats = ${p}_detector_stats{};
  window_start_frame = 0;
  return 0;
}

extern "C" int ${p}_detector_push(const int16_t *pcm, size_t n, ${p}_event_callback on_event,
    void *context) {
  stats.samples += (uint32_t)n;
  while (n > 0) {
    size_t used;
    const uint64_t started = now();
    ${p}_frontend_push(&frontend, pcm, n, &used);
    stats.frontend_ticks += now() - started;
    pcm += used;
    n -= used;
    if (${p}_frontend_window_ready(&frontend) && run_window(on_event, context) != 0) return -1;
  }
  return 0;
}

extern "C" int ${p}_detector_finish(${p}_event_callback on_event, void *context) {
  const int n = ${p}_events_finish(&events, found);
  for (int i = 0; i < n; i++) on_event(&found[i], context);
  return 0;
}

extern "C" void ${p}_detector_set_clock(${p}_clock clock) { timer = clock; }

extern "C" ${p}_detector_stats ${p}_detector_get_stats(void) { return stats; }
"""

_NIGHT = """\
// ${p}_night FILE.wav    (16 kHz mono 16-bit PCM WAV)
// ${p}_night -           (raw 16 kHz mono 16-bit little-endian PCM on stdin)
//
// Runs the device loop (${p}_detector) over the audio and prints one CSV line per
// event, label,start_s,end_s,score, as `sensing detect` writes events.csv, then a
// summary on stderr. Built for the host, or for a Cortex-M4 under QEMU, which opens
// the file on the host through semihosting and counts the instructions the frontend
// and the model take (QEMU's -icount shift=0 runs one instruction per nanosecond of
// its virtual clock, which SysTick counts).
#include <stdio.h>
#include <string.h>

#include "${p}_detector.h"

#if defined(${M}_SEMIHOSTING)
// From ${p}_m4_runtime.c: instructions executed so far, counted by SysTick, and the bytes
// the C library took from the heap.
extern "C" uint64_t ${p}_m4_instructions(void);
extern "C" uint32_t ${p}_m4_heap_used(void);
#endif

namespace {

struct Counts {
  int coughs;
  int episodes;
  double snore_s;
};

void print_event(const ${p}_event *event, void *context) {
  Counts *counts = static_cast<Counts *>(context);
  if (event->label == ${M}_COUGH_LABEL_INDEX) counts->coughs++;
  if (event->label == ${M}_SNORE_LABEL_INDEX) {
    counts->episodes++;
    counts->snore_s += event->end_s - event->start_s;
  }
  printf("%s,%.3f,%.3f,%.4f\\n", ${p}_labels[event->label], event->start_s, event->end_s,
         event->score);
}

uint32_t little_endian(const unsigned char *bytes, int n) {
  uint32_t value = 0;
  for (int i = n - 1; i >= 0; i--) value = (value << 8) | bytes[i];
  return value;
}

// Read a WAV header up to its audio; returns 0 at the first sample, or prints why not.
int skip_wav_header(FILE *file, const char *path) {
  unsigned char riff[12];
  if (fread(riff, 1, 12, file) != 12 || memcmp(riff, "RIFF", 4) != 0 || memcmp(riff + 8, "WAVE", 4) != 0) {
    fprintf(stderr, "error: %s: not a WAV file\\n", path);
    return -1;
  }
  bool format_ok = false;
  for (;;) {
    unsigned char chunk[8];
    if (fread(chunk, 1, 8, file) != 8) {
      fprintf(stderr, "error: %s: no audio data in the WAV file\\n", path);
      return -1;
    }
    uint32_t size = little_endian(chunk + 4, 4);
    if (memcmp(chunk, "fmt ", 4) == 0) {
      unsigned char format[16];
      if (size < 16 || fread(format, 1, 16, file) != 16) break;
      const uint32_t tag = little_endian(format, 2);
      const uint32_t channels = little_endian(format + 2, 2);
      const uint32_t rate = little_endian(format + 4, 4);
      const uint32_t bits = little_endian(format + 14, 2);
      if ((tag != 1 && tag != 0xFFFE) || channels != 1 || bits != 16 || rate != ${M}_FRONTEND_SAMPLE_RATE) {
        fprintf(stderr, "error: %s: %u Hz, %u-channel, %u-bit; the device takes %d Hz mono 16-bit PCM "
                "(convert it first, e.g. with sox or ffmpeg)\\n", path, (unsigned)rate,
                (unsigned)channels, (unsigned)bits, ${M}_FRONTEND_SAMPLE_RATE);
        return -1;
      }
      format_ok = true;
      size -= 16;
    } else if (memcmp(chunk, "data", 4) == 0) {
      if (!format_ok) break;
      return 0;
    }
    for (uint64_t i = 0; i < (uint64_t)size + (size & 1); i++) {  // skip the rest, padded to even
      if (fgetc(file) == EOF) break;
    }
  }
  fprintf(stderr, "error: %s: a damaged WAV header\\n", path);
  return -1;
}

int16_t pcm[256];

}  // namespace

int main(int argc, char **argv) {
#if defined(${M}_SEMIHOSTING)
  ${p}_detector_set_clock(${p}_m4_instructions);
#endif
  if (argc != 2) {
    fprintf(stderr, "usage: ${p}_night FILE.wav | -   (16 kHz mono 16-bit PCM; - reads raw PCM on stdin)\\n");
    return 2;
  }
  const bool from_stdin = strcmp(argv[1], "-") == 0;
  FILE *file = from_stdin ? stdin : fopen(argv[1], "rb");
  if (file == nullptr) {
    fprintf(stderr, "error: %s: cannot open it\\n", argv[1]);
    return 2;
  }
  if (!from_stdin && skip_wav_header(file, argv[1]) != 0) return 2;
#if defined(${M}_SEMIHOSTING)
  // No stdio buffers on the device: every read and write goes straight to the host.
  setvbuf(file, nullptr, _IONBF, 0);
  setvbuf(stdout, nullptr, _IONBF, 0);
#endif
  if (${p}_detector_init() != 0) {
    fprintf(stderr, "error: the model does not run in TensorFlow Lite Micro with a %d-byte arena\\n",
            ${M}_ARENA_SIZE);
    return 1;
  }
  Counts counts = {0, 0, 0.0};
  printf("label,start_s,end_s,score\\n");
  size_t n;
  while ((n = fread(pcm, sizeof(pcm[0]), sizeof(pcm) / sizeof(pcm[0]), file)) > 0) {
    if (${p}_detector_push(pcm, n, print_event, &counts) != 0) {
      fprintf(stderr, "error: the model failed to run\\n");
      return 1;
    }
  }
  ${p}_detector_finish(print_event, &counts);
  const ${p}_detector_stats stats = ${p}_detector_get_stats();
  fprintf(stderr, "%.1f s of audio: %d cough%s, %.2f snore minutes in %d episode%s\\n",
          stats.samples / (double)${M}_FRONTEND_SAMPLE_RATE, counts.coughs, counts.coughs == 1 ? "" : "s",
          counts.snore_s / 60.0, counts.episodes, counts.episodes == 1 ? "" : "s");
#if defined(${M}_SEMIHOSTING)
  if (stats.windows > 0) {
    fprintf(stderr, "instructions per window: frontend %lu, model %lu (%lu windows); heap used %lu bytes\\n",
            (unsigned long)(stats.frontend_ticks / stats.windows),
            (unsigned long)(stats.model_ticks / stats.windows), (unsigned long)stats.windows,
            (unsigned long)${p}_m4_heap_used());
  }
#endif
  return 0;
}
"""

_MODEL_CHECK = """\
// ${p}_model_check FEATURES OUTPUT
//
// Runs the model in TensorFlow Lite Micro on golden/NAME_golden_K.features (float32
// windows, as the toolkit's frontend computed them), quantized as the toolkit does
// (round half to even, clamp), and compares the int8 outputs with
// golden/NAME_golden_K.output byte for byte. Exit status 0 when every byte is equal.
#include <math.h>
#include <new>
#include <stdio.h>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "${p}_model_data.h"
#include "${p}_ops.h"
#include "${p}_settings.h"

namespace {
alignas(16) uint8_t tensor_arena[${M}_ARENA_SIZE];
alignas(${p}_OpResolver) uint8_t resolver_storage[sizeof(${p}_OpResolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
int8_t expected[${M}_LABEL_COUNT];
}  // namespace

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: ${p}_model_check FEATURES OUTPUT\\n");
    return 2;
  }
  FILE *features = fopen(argv[1], "rb");
  FILE *outputs = fopen(argv[2], "rb");
  if (features == nullptr || outputs == nullptr) {
    fprintf(stderr, "error: cannot open %s or %s\\n", argv[1], argv[2]);
    return 2;
  }
  ${p}_OpResolver *resolver = new (resolver_storage) ${p}_OpResolver();
  if (${p}_register_ops(*resolver) != kTfLiteOk) return 1;
  tflite::MicroInterpreter *interpreter = new (interpreter_storage) tflite::MicroInterpreter(
      tflite::GetModel(${p}_model_data), *resolver, tensor_arena, ${M}_ARENA_SIZE);
  if (interpreter->AllocateTensors() != kTfLiteOk) return 1;
  int8_t *input = interpreter->input(0)->data.int8;
  const int row = ${M}_INPUT_MELS * ${M}_INPUT_CHANNELS;
  int windows = 0;
  int mismatches = 0;
  for (;;) {
    int filled = 0;
    for (int frame = 0; frame < ${M}_INPUT_FRAMES; frame++) {
      float values[${M}_INPUT_MELS * ${M}_INPUT_CHANNELS];
      if (fread(values, sizeof(float), row, features) != (size_t)row) break;
      for (int i = 0; i < row; i++) {
        const float q = rintf(values[i] / ${M}_INPUT_SCALE) + (float)${M}_INPUT_ZERO_POINT;
        input[frame * row + i] = (int8_t)(q < -128.0f ? -128.0f : (q > 127.0f ? 127.0f : q));
      }
      filled++;
    }
    if (filled == 0) break;
    if (filled != ${M}_INPUT_FRAMES || fread(expected, 1, ${M}_LABEL_COUNT, outputs) != ${M}_LABEL_COUNT) {
      fprintf(stderr, "error: %s and %s do not hold whole windows\\n", argv[1], argv[2]);
      return 2;
    }
    if (interpreter->Invoke() != kTfLiteOk) return 1;
    const int8_t *output = interpreter->output(0)->data.int8;
    for (int label = 0; label < ${M}_LABEL_COUNT; label++) {
      mismatches += output[label] != expected[label];
    }
    windows++;
  }
  printf("%s: %d windows, %d output bytes differ from the golden ones\\n", argv[1], windows, mismatches);
  return mismatches == 0 && windows > 0 ? 0 : 1;
}
"""
