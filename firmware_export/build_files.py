"""The package's build: a ``Makefile`` and the Cortex-M4 runtime glue ``NAME_m4_runtime.c``.

``make -C PACKAGE TFLM_DIR=... host`` builds ``build/host/NAME_night``;
``cortex-m4`` and ``cortex-m4-cmsis-nn`` build ``build/TARGET/NAME_night.elf`` for a
Cortex-M4 with its FPU (TFLite Micro's reference kernels, or Arm's CMSIS-NN ones), run by
``run-cortex-m4 WAV=FILE`` under QEMU's ``mps2-an386`` board. The Makefile compiles only
the TensorFlow Lite Micro sources the model needs (the interpreter's core and the kernels
of its ops, :func:`firmware_export.ops.kernel_files`) straight from the user's
``TFLM_DIR``, which it never writes to: no TFLM Makefile, downloads or Python at build
time. The M4 image starts from the CMSIS ``ARMCM4`` startup and linker script that TFLM's
tree carries, with our own ``_start`` (``NAME_m4_runtime.c``) so the stack stays inside
the linker script's RAM, and reads its input file through semihosting.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from firmware_export.c_source import generated_comment
from sensing.files import write_atomically

M4_STACK_BYTES = 4096
"""Stack of the Cortex-M4 image (the whole program peaks at about 2.2 KB)."""
M4_HEAP_BYTES = 2048
"""Heap of the Cortex-M4 image, for newlib-nano's stdio over semihosting (unbuffered); the
detector itself allocates nothing."""


def write_build_files(*, out_dir: Path, name: str, kernels: list[str], source: str) -> list[Path]:
    """Write ``Makefile`` and ``NAME_m4_runtime.c``; ``kernels`` are TFLM kernel file names."""
    values = {
        "p": name,
        "M": name.upper(),
        "kernels": " ".join(kernels),
        "stack": f"0x{M4_STACK_BYTES:08X}",
        "heap": f"0x{M4_HEAP_BYTES:08X}",
    }
    makefile = out_dir / "Makefile"
    runtime = out_dir / f"{name}_m4_runtime.c"
    header = generated_comment(f"Makefile of the {name} firmware package.", source)
    write_atomically(makefile, header.replace("//", "#") + Template(_MAKEFILE).substitute(values))
    write_atomically(
        runtime,
        generated_comment("Cortex-M4 start-up and semihosting for NAME_night.", source)
        + Template(_M4_RUNTIME).substitute(values),
    )
    return [makefile, runtime]


_MAKEFILE = """\
# Build the ${p} device loop (${p}_night) with TensorFlow Lite Micro:
#
#   make TFLM_DIR=/path/to/tflite-micro host          # build/host/${p}_night
#   make TFLM_DIR=... cortex-m4 cortex-m4-cmsis-nn    # build/TARGET/${p}_night.elf (Cortex-M4F)
#   make TFLM_DIR=... run-cortex-m4 WAV=night.wav [M4=cortex-m4-cmsis-nn]   # under QEMU
#   make TFLM_DIR=... check-host check-cortex-m4 [M4=...]   # int8 outputs against golden/
#   make TFLM_DIR=... size [M4=...]                   # flash and RAM of the image
#
# TFLM_DIR is a TensorFlow Lite Micro source tree with its third-party downloads in
# tensorflow/lite/micro/tools/make/downloads (as its Makefile leaves them); it is only read.
# Only the interpreter's core and the kernels of this model's ops are compiled, into build/.
# Host: g++/gcc. Cortex-M4: arm-none-eabi-gcc with newlib (rdimon), qemu-system-arm to run.

ifndef TFLM_DIR
$$(error set TFLM_DIR to a TensorFlow Lite Micro source tree, e.g. make TFLM_DIR=$$$$HOME/tflite-micro host)
endif
# A relative TFLM_DIR is taken from this folder (where make -C runs), not from where make was typed.
override TFLM_DIR := $$(abspath $$(TFLM_DIR))
ifeq ($$(wildcard $$(TFLM_DIR)/tensorflow/lite/micro/micro_interpreter.h),)
$$(error $$(TFLM_DIR) is not a TensorFlow Lite Micro source tree (no tensorflow/lite/micro/micro_interpreter.h))
endif

BUILD ?= build
M4 ?= cortex-m4-cmsis-nn
QEMU ?= qemu-system-arm

DL := $$(TFLM_DIR)/tensorflow/lite/micro/tools/make/downloads
DFP := $$(DL)/cmsis/Cortex_DFP/Device/ARMCM4
KERNELS := ${kernels}

TFLM_CORE := $$(filter-out %_test.cc %test_helpers.cc %test_helper_custom_ops.cc %fake_micro_context.cc \\
  %mock_micro_graph.cc %recording_micro_allocator.cc %recording_single_arena_buffer_allocator.cc, \\
  $$(wildcard $$(addprefix $$(TFLM_DIR)/tensorflow/lite/micro/,*.cc arena_allocator/*.cc \\
    memory_planner/*.cc tflite_bridge/*.cc)) \\
  $$(wildcard $$(addprefix $$(TFLM_DIR)/tensorflow/,lite/core/api/*.cc lite/core/c/common.cc \\
    lite/kernels/*.cc lite/kernels/internal/*.cc lite/kernels/internal/reference/*.cc \\
    compiler/mlir/lite/schema/*.cc compiler/mlir/lite/core/api/*.cc)))
# A kernel from kernels/OPTIMIZED/ where the optimized set has it, else the reference one.
tflm_kernels = $$(foreach k,$$(KERNELS),$$(firstword $$(if $$(1),$$(wildcard \\
  $$(TFLM_DIR)/tensorflow/lite/micro/kernels/$$(1)/$$(k).cc)) $$(TFLM_DIR)/tensorflow/lite/micro/kernels/$$(k).cc))
CMSIS_NN := $$(filter-out %_f16.c %_f32.c %/arm_nntables_flt.c,$$(wildcard $$(DL)/cmsis_nn/Source/*/*.c))
NIGHT := ${p}_model_data.cc ${p}_frontend.c ${p}_events.c ${p}_detector.cc ${p}_night.cc
CHECK := ${p}_model_data.cc ${p}_model_check.cc
GOLDEN := $$(wildcard golden/*.features)

INCLUDES := -I. -I$$(TFLM_DIR) -I$$(DL)/flatbuffers/include -I$$(DL)/gemmlowp -I$$(DL)/ruy
COMMON := -O2 -DNDEBUG -DTF_LITE_STATIC_MEMORY -DTF_LITE_DISABLE_X86_NEON -ffunction-sections \\
  -fdata-sections -Wall -Wno-unused-parameter -MMD -MP $$(INCLUDES)
CXX_ONLY := -std=c++17 -fno-rtti -fno-exceptions -fno-threadsafe-statics
C_ONLY := -std=c11

HOST_CC ?= gcc
HOST_CXX ?= g++
M4_CC ?= arm-none-eabi-gcc
M4_CXX ?= arm-none-eabi-g++
M4_SIZE ?= arm-none-eabi-size
M4_ARCH := -mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard -funsigned-char
M4_FLAGS := $$(M4_ARCH) -DARMCM4 -D${M}_SEMIHOSTING -I$$(DFP)/Include -I$$(DL)/cmsis/CMSIS/Core/Include
CMSIS_FLAGS := -DCMSIS_NN -DARM_NN_ENABLE_F16=0 -DARM_NN_ENABLE_F32=0 -I$$(DL)/cmsis_nn -I$$(DL)/cmsis_nn/Include

.PHONY: host cortex-m4 cortex-m4-cmsis-nn run-cortex-m4 check-host check-cortex-m4 size clean
host: $$(BUILD)/host/${p}_night $$(BUILD)/host/${p}_model_check
cortex-m4 cortex-m4-cmsis-nn: %: $$(BUILD)/%/${p}_night.elf $$(BUILD)/%/${p}_model_check.elf

# $$(call objects,TARGET,SOURCES): object files of SOURCES (package, TFLM tree or CMSIS files).
objects = $$(patsubst $$(TFLM_DIR)/%,$$(BUILD)/$$(1)/tflm/%.o,$$(filter $$(TFLM_DIR)/%,$$(2))) \\
  $$(patsubst %,$$(BUILD)/$$(1)/%.o,$$(filter-out $$(TFLM_DIR)/%,$$(2)))

# $$(call target_rules,TARGET,CC,CXX,FLAGS): compile rules for one target.
define target_rules
$$(BUILD)/$$(1)/tflm/%.cc.o: $$(TFLM_DIR)/%.cc
	@mkdir -p $$$$(@D)
	$$(3) $$(4) $$(CXX_ONLY) -c $$$$< -o $$$$@
$$(BUILD)/$$(1)/tflm/%.c.o: $$(TFLM_DIR)/%.c
	@mkdir -p $$$$(@D)
	$$(2) $$(4) $$(C_ONLY) -c $$$$< -o $$$$@
$$(BUILD)/$$(1)/%.cc.o: %.cc
	@mkdir -p $$$$(@D)
	$$(3) $$(4) $$(CXX_ONLY) -c $$$$< -o $$$$@
$$(BUILD)/$$(1)/%.c.o: %.c
	@mkdir -p $$$$(@D)
	$$(2) $$(4) $$(C_ONLY) -c $$$$< -o $$$$@
endef

HOST_TFLM := $$(TFLM_CORE) $$(call tflm_kernels,)
$$(eval $$(call target_rules,host,$$(HOST_CC),$$(HOST_CXX),$$(COMMON)))
$$(BUILD)/host/${p}_night: $$(call objects,host,$$(NIGHT) $$(HOST_TFLM))
	$$(HOST_CXX) $$^ -lm -Wl,--gc-sections -o $$@
$$(BUILD)/host/${p}_model_check: $$(call objects,host,$$(CHECK) $$(HOST_TFLM))
	$$(HOST_CXX) $$^ -lm -Wl,--gc-sections -o $$@

M4_START := $$(DFP)/Source/startup_ARMCM4.c $$(DFP)/Source/system_ARMCM4.c ${p}_m4_runtime.c
M4_TFLM_cortex-m4 := $$(M4_START) $$(TFLM_CORE) $$(call tflm_kernels,)
M4_TFLM_cortex-m4-cmsis-nn := $$(M4_START) $$(TFLM_CORE) $$(call tflm_kernels,cmsis_nn) $$(CMSIS_NN)
$$(eval $$(call target_rules,cortex-m4,$$(M4_CC),$$(M4_CXX),$$(COMMON) $$(M4_FLAGS)))
$$(eval $$(call target_rules,cortex-m4-cmsis-nn,$$(M4_CC),$$(M4_CXX),$$(COMMON) $$(M4_FLAGS) $$(CMSIS_FLAGS)))

# The CMSIS linker script (256 KB flash, 128 KB RAM) with this program's stack and heap.
$$(BUILD)/ARMCM4_gcc.ld: $$(DFP)/Config/ARMCM4_gcc.ld Makefile
	@mkdir -p $$(@D)
	sed -e 's/^__STACK_SIZE = .*/__STACK_SIZE = ${stack};/' -e 's/^__HEAP_SIZE .*/__HEAP_SIZE  = ${heap};/' $$< > $$@

M4_LINK = $$(M4_CXX) $$(M4_ARCH) --specs=nano.specs --specs=rdimon.specs -u _printf_float -nostartfiles -T $$(BUILD)/ARMCM4_gcc.ld \\
  -Wl,--gc-sections -Wl,--no-warn-rwx-segments -Wl,-Map=$$(@:.elf=.map)
# $$(call m4_programs,TARGET): the night and the model check for one kernel set.
define m4_programs
$$(BUILD)/$$(1)/${p}_night.elf: $$(call objects,$$(1),$$(NIGHT) $$(M4_TFLM_$$(1))) $$(BUILD)/ARMCM4_gcc.ld
	$$$$(M4_LINK) $$$$(filter %.o,$$$$^) -lm -lrdimon -o $$$$@
$$(BUILD)/$$(1)/${p}_model_check.elf: $$(call objects,$$(1),$$(CHECK) $$(M4_TFLM_$$(1))) $$(BUILD)/ARMCM4_gcc.ld
	$$$$(M4_LINK) $$$$(filter %.o,$$$$^) -lm -lrdimon -o $$$$@
endef
$$(foreach target,cortex-m4 cortex-m4-cmsis-nn,$$(eval $$(call m4_programs,$$(target))))

# One instruction per nanosecond of QEMU's virtual clock (-icount shift=0): the program's
# SysTick then counts instructions. The file is read on the host through semihosting.
QEMU_RUN = $$(QEMU) -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none -icount shift=0 \\
  -semihosting-config enable=on,target=native
run-cortex-m4: $$(BUILD)/$$(M4)/${p}_night.elf
	@test -n "$$(WAV)" || { echo "give the audio: make run-cortex-m4 WAV=FILE.wav" >&2; exit 2; }
	$$(QEMU_RUN),arg=${p}_night,arg=$$(abspath $$(WAV)) -kernel $$<

check-host: $$(BUILD)/host/${p}_model_check
	@for f in $$(GOLDEN); do $$< $$$$f $$$${f%.features}.output || exit 1; done

check-cortex-m4: $$(BUILD)/$$(M4)/${p}_model_check.elf
	@for f in $$(abspath $$(GOLDEN)); do \\
	  $$(QEMU_RUN),arg=check,arg=$$$$f,arg=$$$${f%.features}.output -kernel $$< || exit 1; done

size: $$(BUILD)/$$(M4)/${p}_night.elf
	$$(M4_SIZE) $$<

clean:
	rm -rf $$(BUILD)

-include $$(shell find $$(BUILD) -name '*.d' 2>/dev/null)
"""

_M4_RUNTIME = """\
// Start-up of ${p}_night on the Cortex-M4 of QEMU's mps2-an386 board (CMSIS ARMCM4):
// the C runtime entry, semihosting (the host's files and terminal, the command line),
// an instruction counter from SysTick, and fault handlers that exit instead of hanging.
// Not needed in your firmware, which has its own start-up and audio driver.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ARMCM4.h"

extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);
extern int main(int argc, char **argv);
extern uint32_t __bss_start__, __bss_end__;

static volatile uint32_t systick_wraps;

void SysTick_Handler(void) { systick_wraps++; }

static void fault(const char *what) {
  fprintf(stderr, "error: %s on the Cortex-M4\\n", what);
  exit(3);
}
void HardFault_Handler(void) { fault("HardFault"); }
void MemManage_Handler(void) { fault("MemManage fault"); }
void BusFault_Handler(void) { fault("BusFault"); }
void UsageFault_Handler(void) { fault("UsageFault"); }

// Instructions executed so far: SysTick runs at SystemCoreClock (25 MHz) of QEMU's virtual
// time, and with -icount shift=0 every instruction takes one virtual nanosecond.
uint64_t ${p}_m4_instructions(void) {
  __disable_irq();
  uint32_t wraps = systick_wraps;
  uint32_t value = SysTick->VAL;
  if (SCB->ICSR & SCB_ICSR_PENDSTSET_Msk) {  // wrapped, its interrupt not taken yet
    value = SysTick->VAL;
    wraps++;
  }
  __enable_irq();
  const uint64_t ticks = ((uint64_t)wraps << 24) + (0xFFFFFFu - value);
  return ticks * (1000000000ull / SystemCoreClock);
}

uint32_t ${p}_m4_heap_used(void) {
  extern char end;  // the heap's start, from the linker script
  extern void *_sbrk(int increment);
  return (uint32_t)((char *)_sbrk(0) - &end);
}

static void start_counting(void) {
  SysTick->LOAD = 0xFFFFFFu;
  SysTick->VAL = 0;
  SysTick->CTRL = SysTick_CTRL_CLKSOURCE_Msk | SysTick_CTRL_TICKINT_Msk | SysTick_CTRL_ENABLE_Msk;
  while (SysTick->VAL == 0) {  // VAL reads 0 until the first reload
  }
}

// The command line QEMU was given (-semihosting-config ...,arg=A,arg=B), split at spaces.
static char command_line[512];
static char *arguments[8];

static int semihosting_arguments(void) {
  struct {
    char *buffer;
    int length;
  } block = {command_line, (int)sizeof(command_line) - 1};
  register int operation __asm__("r0") = 0x15;  // SYS_GET_CMDLINE
  register void *parameter __asm__("r1") = &block;
  __asm__ volatile("bkpt 0xAB" : "+r"(operation) : "r"(parameter) : "memory");
  if (operation != 0) return 0;
  int count = 0;
  for (char *word = strtok(command_line, " "); word != NULL && count < 8; word = strtok(NULL, " ")) {
    arguments[count++] = word;
  }
  return count;
}

void _init(void) {}
void _fini(void) {}

// Called by the CMSIS Reset_Handler once .data is copied. newlib's rdimon start-up file is not
// used: it would move the stack to the top of QEMU's memory, outside the linker script's RAM.
__attribute__((noreturn)) void _start(void) {
  for (uint32_t *word = &__bss_start__; word < &__bss_end__; word++) *word = 0;
  SCB->CPACR |= (3u << 20) | (3u << 22);  // the FPU (the startup code leaves it to us)
  __DSB();
  __ISB();
  initialise_monitor_handles();
  __libc_init_array();
  start_counting();
  const int count = semihosting_arguments();
  exit(main(count, arguments));
}
"""
