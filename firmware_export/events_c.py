"""``NAME_events.c/.h``: the event rules of :mod:`sensing.audio.events` in C99 for the firmware.

Window probabilities and frame levels in, coughs and snore episodes out, by the
same rules as :class:`sensing.audio.events.EventTracker` (thresholds, region
merging, cough counting with hysteresis around the region's background, the
10 s region cut, snore episodes). Every constant comes from
:class:`~sensing.audio.events.EventSettings` and the model's settings, so the two
cannot drift apart. Times are kept as frame numbers (integers) and turned into
seconds only for the events; a cough region's frame levels live in a fixed
buffer of ``cough_region_max_s`` seconds of frames, so the code needs no heap.
``tests/test_firmware_build.py`` compiles it with the rest of the package and
compares its events with ``sensing detect``'s.
"""

from __future__ import annotations

import math
from pathlib import Path
from string import Template

from firmware_export.c_source import c_float, generated_comment
from sensing.audio.events import (
    BACKGROUND_PERCENTILE,
    COUGH,
    FRAME_GRID_TOLERANCE_S,
    SNORE,
    EventSettings,
)
from sensing.audio.features import FeatureSettings
from sensing.errors import SensingError
from sensing.files import write_atomically


def _frames(seconds: float, settings: FeatureSettings) -> float:
    """``seconds`` in frame hops (not rounded)."""
    return seconds * settings.sr / settings.hop_length


def event_macros(
    events: EventSettings, features: FeatureSettings, labels: list[str] | tuple[str, ...]
) -> dict[str, str]:
    """The C values of the event rules, by macro name without the package's prefix."""
    if features.window_hop_samples % features.hop_length:
        raise SensingError("the window hop must be a whole number of frames for the firmware's events")
    window_frames = features.window_frames
    hop_frames = features.window_hop_frames
    # Comparisons of start frames: Python compares seconds, which on this grid is the same as
    # comparing frame counts against these limits (none of which lies on the grid itself).
    merge_frames = _frames(events.merge_gap_s, features) + hop_frames
    separation = math.ceil(_frames(events.cough_separation_s - FRAME_GRID_TOLERANCE_S, features))
    if merge_frames - hop_frames > window_frames:
        raise SensingError(
            f"a merge gap of {events.merge_gap_s} s leaves holes between a cough region's windows, "
            f"which the firmware's frame buffer cannot hold (at most {features.window_s:.3f} s)"
        )
    if abs(merge_frames / hop_frames - round(merge_frames / hop_frames)) < 1e-6:
        raise SensingError(
            f"a merge gap of {events.merge_gap_s} s puts the merge limit exactly on a window start, "
            "where float rounding would decide; choose a gap that is not a multiple of the hop"
        )
    if separation < 1:
        raise SensingError(f"cough separation {events.cough_separation_s} s is shorter than a frame hop")
    # A region of at most cough_region_max_s (counted from its first window's start to its
    # last window's end) holds at most this many frames.
    region_max = math.ceil(_frames(events.cough_region_max_s, features) - 1e-6)
    return {
        "COUGH_LABEL_INDEX": f"({labels.index(COUGH) if COUGH in labels else -1})",
        "SNORE_LABEL_INDEX": f"({labels.index(SNORE) if SNORE in labels else -1})",
        "FRAME_HOP_S": c_float(features.hop_length / features.sr),
        "FRAME_S": c_float(features.n_fft / features.sr),
        "EVENT_WINDOW_FRAMES": str(window_frames),
        "MERGE_GAP_FRAMES": c_float(merge_frames),
        "COUGH_RISE_DB": c_float(events.cough_rise_db),
        "COUGH_RELEASE_DB": c_float(events.cough_release_db),
        "COUGH_SEPARATION_FRAMES": str(separation),
        "COUGH_REGION_MAX_S": c_float(events.cough_region_max_s),
        "COUGH_REGION_MAX_FRAMES": str(region_max),
        "EVENT_WINDOW_S": c_float(features.window_s),
        "COUGH_BACKGROUND_PERCENTILE": c_float(BACKGROUND_PERCENTILE),
        "FRAME_GRID_TOLERANCE_S": c_float(FRAME_GRID_TOLERANCE_S),
        "SNORE_EPISODE_GAP_S": c_float(events.snore_episode_gap_s),
        "SNORE_MIN_REGIONS": str(events.snore_min_regions),
        "SNORE_MIN_EPISODE_S": c_float(events.snore_min_episode_s),
    }


def write_events(
    *,
    events: EventSettings,
    features: FeatureSettings,
    labels: list[str] | tuple[str, ...],
    out_dir: Path,
    name: str,
    source: str,
) -> list[Path]:
    """Write ``NAME_events.h`` and ``NAME_events.c``; returns their paths."""
    prefix = name.upper()
    macros = "\n".join(
        f"#define {prefix}_{key} {value}" for key, value in event_macros(events, features, labels).items()
    )
    values = {"p": name, "M": prefix, "macros": macros}
    header = out_dir / f"{name}_events.h"
    code = out_dir / f"{name}_events.c"
    write_atomically(
        header,
        generated_comment("Cough and snore events from window probabilities.", source)
        + Template(_HEADER).substitute(values),
    )
    write_atomically(
        code,
        generated_comment("Cough and snore events from window probabilities.", source)
        + Template(_SOURCE).substitute(values),
    )
    return [header, code]


_HEADER = """\
#ifndef ${M}_EVENTS_H_
#define ${M}_EVENTS_H_

// Window probabilities in, coughs and snore episodes out: the rules of the sensing
// toolkit's sensing/audio/events.py, in C99, with no heap.
//
// Windows come in time order, each with its start frame (frame i starts at sample
// i * HOP_LENGTH), one probability per label and the level (dBFS) of each of its
// frames in the cough band (${p}_frontend_window_levels). Windows whose probability
// for cough or snore is at or above its threshold are active; active windows of a
// label whose starts are at most MERGE_GAP_FRAMES apart form a region.
// - Coughs are counted inside a cough region when it closes: a cough starts where
//   the band level rises COUGH_RISE_DB above the region's background (its
//   COUGH_BACKGROUND_PERCENTILE-th percentile), or that far above its lowest point
//   since the last rise while still loud, and lasts until it falls below
//   COUGH_RELEASE_DB above the background; a rise within COUGH_SEPARATION_FRAMES
//   of a cough's start belongs to that cough. A region that would grow beyond
//   COUGH_REGION_MAX_FRAMES is counted and closed; the next region goes on from it.
// - Snore regions at most SNORE_EPISODE_GAP_S apart form an episode, reported when
//   it has SNORE_MIN_REGIONS regions and lasts SNORE_MIN_EPISODE_S seconds.
//
//   static ${p}_events_state events;
//   ${p}_events_init(&events, ${p}_thresholds);
//   // per window:
//   ${p}_event found[${M}_MAX_EVENTS_PER_CALL];
//   int n = ${p}_events_update(&events, start_frame, probabilities, levels, found);
//   // at the end of the audio:
//   n = ${p}_events_finish(&events, found);

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

${macros}
// Most events one call can return: every cough of a full region, plus an episode.
#define ${M}_MAX_EVENTS_PER_CALL (${M}_COUGH_REGION_MAX_FRAMES / ${M}_COUGH_SEPARATION_FRAMES + 2)

// One event: a cough, or a snore episode. Times in seconds from the start of the audio.
typedef struct {
  int label;  // index into ${p}_labels
  float start_s;
  float end_s;
  float score;  // the highest window probability of the label within the event's region
} ${p}_event;

// Event state; the caller allocates it (about ${M}_COUGH_REGION_MAX_FRAMES floats) and
// calls ${p}_events_init() once.
typedef struct {
  float thresholds[2];  // cough, snore
  // The open cough region: frame levels from its first frame on.
  bool cough_open;
  int cough_start_frame;
  int cough_last_start_frame;
  int cough_frames_held;
  float cough_score;
  float cough_db[${M}_COUGH_REGION_MAX_FRAMES];
  // Handed on by a region cut at COUGH_REGION_MAX_FRAMES to the one that goes on from it.
  int counted_until_frame;  // frames before this were counted by the cut region
  int previous_cough_frame;  // start of the cut region's last cough
  bool carry;
  // The open snore region, and the episode being built.
  bool snore_open;
  int snore_start_frame;
  int snore_last_start_frame;
  float snore_score;
  int episode_regions;
  float episode_start_s;
  float episode_end_s;
  float episode_score;
} ${p}_events_state;

// Empty the state. thresholds: per label (model-output order), as ${p}_thresholds.
void ${p}_events_init(${p}_events_state *state, const float *thresholds);

// Take one window: start_frame, probabilities[LABEL_COUNT], levels[EVENT_WINDOW_FRAMES]
// (dBFS, oldest first). Writes the events this window made final into out (at most
// ${M}_MAX_EVENTS_PER_CALL) and returns how many.
int ${p}_events_update(${p}_events_state *state, int start_frame, const float *probabilities,
    const float *levels, ${p}_event *out);

// Close everything still open at the end of the audio; returns the events written to out.
int ${p}_events_finish(${p}_events_state *state, ${p}_event *out);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // ${M}_EVENTS_H_
"""

_SOURCE = """\
#include "${p}_events.h"

#include <math.h>
#include <string.h>

// Frame number to seconds from the start of the audio.
static double ${p}_seconds(int frame) {
  return (double)frame * ${M}_FRAME_HOP_S;
}

// The p-th percentile (linear interpolation, as numpy's default) of values[0..n),
// found without a copy by counting ranks: n is at most COUGH_REGION_MAX_FRAMES and a
// region closes a few times a minute at most.
static double ${p}_percentile(const float *values, int n, double p) {
  const double rank = p / 100.0 * (double)(n - 1);
  const int low = (int)floor(rank);
  const int high = low + 1 < n ? low + 1 : low;
  float at_low = 0.0f;
  float at_high = 0.0f;
  for (int i = 0; i < n; i++) {
    int below = 0;
    int equal = 0;
    for (int j = 0; j < n; j++) {
      below += values[j] < values[i];
      equal += values[j] == values[i];
    }
    // values[i] is the k-th smallest for every k in [below, below + equal).
    if (below <= low && low < below + equal) at_low = values[i];
    if (below <= high && high < below + equal) at_high = values[i];
  }
  return (double)at_low + ((double)at_high - (double)at_low) * (rank - (double)low);
}

// Count the coughs of the open cough region into out; returns how many.
static int ${p}_count_coughs(${p}_events_state *state, ${p}_event *out) {
  const int first = state->cough_start_frame;
  int skip = state->carry ? state->counted_until_frame - first : 0;
  if (skip < 0) skip = 0;
  const float *levels = state->cough_db + skip;
  const int n = state->cough_frames_held - skip;
  int previous = state->carry ? state->previous_cough_frame : -(1 << 30);
  int count = 0;
  if (n <= 0) return 0;
  const double background = ${p}_percentile(levels, n, ${M}_COUGH_BACKGROUND_PERCENTILE);
  bool loud = false;
  double dip = 0.0;
  for (int i = 0; i < n; i++) {
    const int frame = first + skip + i;
    const double level = levels[i];
    bool rises = false;
    if (loud && level < background + ${M}_COUGH_RELEASE_DB) {
      loud = false;
    } else if (loud && level >= dip + ${M}_COUGH_RISE_DB) {
      rises = true;
      dip = level;
    } else if (!loud && level >= background + ${M}_COUGH_RISE_DB) {
      rises = true;
      loud = true;
      dip = level;
    }
    if (rises && frame - previous >= ${M}_COUGH_SEPARATION_FRAMES) {
      out[count].label = ${M}_COUGH_LABEL_INDEX;
      out[count].start_s = (float)${p}_seconds(frame);
      out[count].score = state->cough_score;
      count++;
      previous = frame;
    }
    if (loud) {
      dip = level < dip ? level : dip;
      if (count > 0) out[count - 1].end_s = (float)(${p}_seconds(frame) + ${M}_FRAME_S);
    }
  }
  state->previous_cough_frame = previous;
  return count;
}

// Close the cough region; cut: it reached COUGH_REGION_MAX_FRAMES and the next goes on from it.
static int ${p}_close_cough(${p}_events_state *state, bool cut, ${p}_event *out) {
  const int count = ${p}_count_coughs(state, out);
  state->cough_open = false;
  state->carry = cut;
  state->counted_until_frame = state->cough_start_frame + state->cough_frames_held;
  return count;
}

// Report the snore episode if it is one; empty it either way.
static int ${p}_close_episode(${p}_events_state *state, ${p}_event *out) {
  const int regions = state->episode_regions;
  state->episode_regions = 0;
  if (regions < ${M}_SNORE_MIN_REGIONS) return 0;
  if (state->episode_end_s - state->episode_start_s < ${M}_SNORE_MIN_EPISODE_S) return 0;
  out->label = ${M}_SNORE_LABEL_INDEX;
  out->start_s = state->episode_start_s;
  out->end_s = state->episode_end_s;
  out->score = state->episode_score;
  return 1;
}

// Close the snore region: it joins the episode.
static void ${p}_close_snore(${p}_events_state *state) {
  const float start_s = (float)${p}_seconds(state->snore_start_frame);
  const float end_s = (float)${p}_seconds(state->snore_last_start_frame + ${M}_EVENT_WINDOW_FRAMES - 1)
      + ${M}_FRAME_S;
  if (state->episode_regions == 0) {
    state->episode_start_s = start_s;
    state->episode_score = state->snore_score;
  }
  state->episode_end_s = end_s;
  state->episode_score = state->snore_score > state->episode_score ? state->snore_score : state->episode_score;
  state->episode_regions++;
  state->snore_open = false;
}

void ${p}_events_init(${p}_events_state *state, const float *thresholds) {
  memset(state, 0, sizeof(*state));
  state->thresholds[0] = ${M}_COUGH_LABEL_INDEX >= 0 ? thresholds[${M}_COUGH_LABEL_INDEX] : 2.0f;
  state->thresholds[1] = ${M}_SNORE_LABEL_INDEX >= 0 ? thresholds[${M}_SNORE_LABEL_INDEX] : 2.0f;
}

int ${p}_events_update(${p}_events_state *state, int start_frame, const float *probabilities,
    const float *levels, ${p}_event *out) {
  const float cough = ${M}_COUGH_LABEL_INDEX >= 0 ? probabilities[${M}_COUGH_LABEL_INDEX] : 0.0f;
  const float snore = ${M}_SNORE_LABEL_INDEX >= 0 ? probabilities[${M}_SNORE_LABEL_INDEX] : 0.0f;
  const bool cough_active = cough >= state->thresholds[0];
  const bool snore_active = snore >= state->thresholds[1];
  int count = 0;
  if (state->cough_open) {
    if (start_frame - state->cough_last_start_frame > ${M}_MERGE_GAP_FRAMES) {
      count += ${p}_close_cough(state, false, out + count);
    } else if (cough_active
        && ${p}_seconds(start_frame - state->cough_start_frame) + ${M}_EVENT_WINDOW_S
            > ${M}_COUGH_REGION_MAX_S + ${M}_FRAME_GRID_TOLERANCE_S) {
      count += ${p}_close_cough(state, true, out + count);
    }
  }
  if (state->snore_open && start_frame - state->snore_last_start_frame > ${M}_MERGE_GAP_FRAMES) {
    ${p}_close_snore(state);
  }
  if (state->episode_regions > 0 && !state->snore_open
      && ${p}_seconds(start_frame) - state->episode_end_s > ${M}_SNORE_EPISODE_GAP_S) {
    count += ${p}_close_episode(state, out + count);
  }
  if (cough_active) {
    if (!state->cough_open) {
      state->cough_open = true;
      state->cough_start_frame = start_frame;
      state->cough_frames_held = 0;
      state->cough_score = 0.0f;
      if (!state->carry) state->previous_cough_frame = -(1 << 30);
    }
    state->cough_last_start_frame = start_frame;
    state->cough_score = cough > state->cough_score ? cough : state->cough_score;
    // Windows of a region leave no gap between them (they are at most two hops apart), so
    // the region's frames are one run from its start; overlapping frames are the same.
    const int offset = start_frame - state->cough_start_frame;
    for (int i = 0; i < ${M}_EVENT_WINDOW_FRAMES && offset + i < ${M}_COUGH_REGION_MAX_FRAMES; i++) {
      state->cough_db[offset + i] = levels[i];
    }
    const int held = offset + ${M}_EVENT_WINDOW_FRAMES;
    state->cough_frames_held = held < ${M}_COUGH_REGION_MAX_FRAMES ? held : ${M}_COUGH_REGION_MAX_FRAMES;
  } else if (!state->cough_open) {
    state->carry = false;
  }
  if (snore_active) {
    if (!state->snore_open) {
      state->snore_open = true;
      state->snore_start_frame = start_frame;
      state->snore_score = 0.0f;
    }
    state->snore_last_start_frame = start_frame;
    state->snore_score = snore > state->snore_score ? snore : state->snore_score;
  }
  return count;
}

int ${p}_events_finish(${p}_events_state *state, ${p}_event *out) {
  int count = 0;
  if (state->cough_open) count += ${p}_close_cough(state, false, out + count);
  if (state->snore_open) ${p}_close_snore(state);
  if (state->episode_regions > 0) count += ${p}_close_episode(state, out + count);
  return count;
}
"""
