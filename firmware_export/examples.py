"""The package's example and host-check sources, its CMake snippet and its README."""

from __future__ import annotations

from pathlib import Path
from string import Template

from firmware_export.c_source import generated_comment
from sensing.files import write_atomically

_CHECK = """\
// Host check of the C frontend against the golden vectors:
//   cc -std=c99 -O2 ${p}_frontend_check.c ${p}_frontend.c -lm -o frontend_check
//   ./frontend_check golden/${p}_golden_0.pcm golden/${p}_golden_0.features
// Prints the largest differences and exits 1 when one exceeds the tolerance.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "${p}_frontend.h"

#define TOLERANCE ${tolerance}f
#define CHUNK 1000

static float expected[${M}_FRONTEND_WINDOW_SIZE];
static float actual[${M}_FRONTEND_WINDOW_SIZE];

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s CLIP.pcm CLIP.features\\n", argv[0]);
    return 2;
  }
  FILE *pcm_file = fopen(argv[1], "rb");
  FILE *features_file = fopen(argv[2], "rb");
  if (pcm_file == NULL || features_file == NULL) {
    fprintf(stderr, "cannot open %s or %s\\n", argv[1], argv[2]);
    return 2;
  }
  static ${p}_frontend_state state;
  ${p}_frontend_init(&state);
  int16_t pcm[CHUNK];
  size_t n_read;
  int windows = 0;
  float worst = 0.0f;
  while ((n_read = fread(pcm, sizeof(int16_t), CHUNK, pcm_file)) > 0) {
    const int16_t *next = pcm;
    size_t left = n_read;
    while (left > 0) {
      size_t used;
      ${p}_frontend_push(&state, next, left, &used);
      next += used;
      left -= used;
      if (!${p}_frontend_window_ready(&state)) continue;
      ${p}_frontend_window(&state, actual);
      if (fread(expected, sizeof(float), ${M}_FRONTEND_WINDOW_SIZE, features_file) !=
          ${M}_FRONTEND_WINDOW_SIZE) {
        fprintf(stderr, "window %d: the C frontend made more windows than expected\\n", windows);
        return 1;
      }
      for (int i = 0; i < ${M}_FRONTEND_WINDOW_SIZE; i++) {
        float difference = fabsf(actual[i] - expected[i]);
        if (!(difference <= worst)) worst = difference;
      }
      windows++;
    }
  }
  if (fread(expected, sizeof(float), 1, features_file) == 1) {
    fprintf(stderr, "the C frontend made fewer windows (%d) than expected\\n", windows);
    return 1;
  }
  printf("%d windows, largest difference %g (tolerance %g)\\n", windows, worst, TOLERANCE);
  return worst <= TOLERANCE ? 0 : 1;
}
"""

_MAIN = """\
// Example loop on the device: audio in, features, invoke, smoothing, events.
// Needs TensorFlow Lite Micro's sources (bring them from your SDK or
// github.com/tensorflow/tflite-micro) and two functions of your platform:
// read_microphone() and report_event().
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "${p}_model_data.h"
#include "${p}_ops.h"
#include "${p}_settings.h"

// Provided by your platform: fills up to max_samples 16-bit samples at
// ${M}_FRONTEND_SAMPLE_RATE Hz and returns how many it wrote.
size_t read_microphone(int16_t* pcm, size_t max_samples);
// Provided by your platform: called once per event (label index, window count).
void report_event(int label, int windows_active);

namespace {
alignas(16) uint8_t tensor_arena[${M}_ARENA_SIZE];
${p}_frontend_state frontend;
float features[${M}_FRONTEND_WINDOW_SIZE];
int16_t pcm[256];
int active_windows[${M}_LABEL_COUNT];
float smoothed[${M}_LABEL_COUNT];
}  // namespace

int main() {
  ${p}_OpResolver resolver;
  if (${p}_register_ops(resolver) != kTfLiteOk) return 1;
  tflite::MicroInterpreter interpreter(tflite::GetModel(${p}_model_data), resolver,
                                       tensor_arena, ${M}_ARENA_SIZE);
  if (interpreter.AllocateTensors() != kTfLiteOk) return 1;
  TfLiteTensor* input = interpreter.input(0);
  TfLiteTensor* output = interpreter.output(0);
  ${p}_frontend_init(&frontend);

  for (;;) {
    size_t n = read_microphone(pcm, sizeof(pcm) / sizeof(pcm[0]));
    const int16_t* next = pcm;
    while (n > 0) {
      size_t used;
      ${p}_frontend_push(&frontend, next, n, &used);
      next += used;
      n -= used;
      if (!${p}_frontend_window_ready(&frontend)) continue;
      ${p}_frontend_window(&frontend, features);
      for (int i = 0; i < ${M}_INPUT_SIZE; i++) {  // quantize the window into the input tensor
        int q = (int)lroundf(features[i] / ${M}_INPUT_SCALE) + ${M}_INPUT_ZERO_POINT;
        input->data.int8[i] = (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
      }
      if (interpreter.Invoke() != kTfLiteOk) return 1;
      for (int label = 0; label < ${M}_LABEL_COUNT; label++) {
        float probability = ${M}_OUTPUT_SCALE *
                            (float)(output->data.int8[label] - ${M}_OUTPUT_ZERO_POINT);
        // Smoothing: the mean of this window and the previous one.
        float mean = 0.5f * (probability + smoothed[label]);
        smoothed[label] = probability;
        if (mean >= ${p}_thresholds[label]) {
          active_windows[label]++;
        } else if (active_windows[label] > 0) {  // an event ends: report it once
          report_event(label, active_windows[label]);
          active_windows[label] = 0;
        }
      }
    }
  }
}
"""

_CMAKE = """\
# Add the ${p} model to a firmware build. TensorFlow Lite Micro comes from your
# SDK or from github.com/tensorflow/tflite-micro as a library target; name it below.
#   include(${p}.cmake)
#   target_link_libraries(your_firmware PRIVATE ${p})
set(${M}_TFLM_TARGET tflite_micro CACHE STRING "TensorFlow Lite Micro library target")
add_library(${p} STATIC
  $${CMAKE_CURRENT_LIST_DIR}/${p}_model_data.cc
  $${CMAKE_CURRENT_LIST_DIR}/${p}_frontend.c)
target_include_directories(${p} PUBLIC $${CMAKE_CURRENT_LIST_DIR})
target_compile_features(${p} PUBLIC cxx_std_11)
target_link_libraries(${p} PUBLIC $${${M}_TFLM_TARGET} m)
"""

_README = """\
# ${p}: firmware package

Generated by `sensing export firmware` from ${source}.

| file | what it is |
|---|---|
| `${p}_model_data.cc/.h` | the int8 model as a 16-byte-aligned C array (`${p}_model_data`, `${p}_model_data_len`) |
| `${p}_settings.h` | every constant: input shape and quantization, labels, thresholds, arena size; includes the frontend header |
| `${p}_ops.h` | `${p}_register_ops(resolver)`: exactly the ${op_count} ops the model uses, on a `MicroMutableOpResolver<${M}_OP_COUNT>` |
| `${p}_frontend.c/.h` | the log-mel frontend in C99: 16-bit PCM in, model input windows out; no heap |
| `main.cc` | the device loop: audio in, features, invoke, smoothing, events |
| `${p}.cmake` | CMake snippet adding the sources to a firmware build |
| `${p}_frontend_check.c`, `golden/` | host check of the frontend against golden vectors computed in Python |
| `size_report.json` | flash, arena, ops, multiply-adds |

${size}

Check the frontend on your host (or a board with a file system):

```sh
cc -std=c99 -Wall -Wextra -O2 ${p}_frontend_check.c ${p}_frontend.c -lm -o frontend_check
./frontend_check golden/${p}_golden_0.pcm golden/${p}_golden_0.features
```

`golden/NAME_golden_K.output` holds the int8 outputs ai-edge-litert gives for the
golden features; TFLite Micro gives the same bytes (the exporter checked).
The tensor arena was measured by running the model in TFLite Micro's interpreter
and includes a margin of ${margin}.
"""


def _substitute(template: str, name: str, **values) -> str:
    return Template(template).substitute(p=name, M=name.upper(), **values)


def write_examples(
    *, out_dir: Path, name: str, source: str, tolerance: float, op_count: int, size_text: str, margin: str
) -> list[Path]:
    """Write the host check program, ``main.cc``, the CMake snippet and the README."""
    files = {
        f"{name}_frontend_check.c": generated_comment("Host check of the C frontend.", source)
        + _substitute(_CHECK, name, tolerance=f"{tolerance:g}"),
        "main.cc": generated_comment("Example device loop.", source) + _substitute(_MAIN, name),
        f"{name}.cmake": "# Generated by `sensing export firmware`; do not edit.\n"
        + _substitute(_CMAKE, name),
        "README.md": _substitute(
            _README, name, source=source, op_count=op_count, size=size_text, margin=margin
        ),
    }
    paths = []
    for file_name, text in files.items():
        path = out_dir / file_name
        write_atomically(path, text)
        paths.append(path)
    return paths
