"""Flash and RAM of a built firmware image, part by part, from its GNU ld map file.

The package's ``Makefile`` links ``build/TARGET/NAME_night.elf`` with ``-Wl,-Map``;
:func:`image_parts` reads that map (the "Linker script and memory map" part: every input
section with its size and the object it came from) and adds each section to a part:

- flash: the model array, TensorFlow Lite Micro's core, its kernels, Arm's CMSIS-NN, the
  frontend, the event logic (events and detector), and the rest (the night program,
  start-up, the C library with its semihosting I/O);
- RAM: the tensor arena, the frontend's state, the events' state, the stack, the heap and
  the rest.

Flash is what the image stores (code, constants, the initial values of ``.data``); RAM is
``.data``, ``.bss`` and the linker script's heap and stack. The totals equal
``arm-none-eabi-size``'s text + data and data + bss.

    python -m firmware_export.link_map PACKAGE [--target cortex-m4-cmsis-nn]

prints the table and adds it to ``PACKAGE/size_report.json`` under ``"linked"``.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from sensing.errors import SensingError
from sensing.files import write_atomically

FLASH_SECTIONS = {".text", ".ARM.extab", ".ARM.exidx", ".copy.table", ".zero.table", ".data"}
RAM_SECTIONS = {".data", ".bss", ".heap", ".stack"}

_OUTPUT = re.compile(r"^(\.\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)")
_OUTPUT_NAME = re.compile(r"^(\.\S+)\s*$")
_ADDRESS_SIZE = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)(?:\s+(\S.*))?$")
_INPUT = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
_INPUT_NAME = re.compile(r"^ (\.\S+|COMMON)\s*$")
_FILL = re.compile(r"^ \*fill\*\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)")


def map_sections(text: str) -> Iterator[tuple[str, str, str, int]]:
    """(output section, input section, input file, bytes) for every input section of a map.

    Padding is reported with the input file ``*fill*``; bytes of an output section that no
    input accounts for (a linker script's ``. = . + SIZE``: the heap and stack) with the input
    file ``<reserved>``. Mergeable strings overlap in the map; only new bytes are counted.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Linker script and memory map")), None)
    if start is None:
        raise SensingError("not a GNU ld map file (no 'Linker script and memory map' part)")
    output, output_size, counted, cursor = None, 0, 0, 0
    pending_output = pending_input = None

    def rest() -> Iterator[tuple[str, str, str, int]]:
        if output is not None and output_size > counted:
            yield output, "", "<reserved>", output_size - counted

    for line in lines[start:]:
        if pending_output is not None:
            match = _ADDRESS_SIZE.match(line)
            if match:
                yield from rest()
                output, output_size, counted = pending_output, int(match[2], 16), 0
                cursor = int(match[1], 16)
            pending_output = None
            continue
        if match := _OUTPUT.match(line):
            yield from rest()
            output, output_size, counted = match[1], int(match[3], 16), 0
            cursor, pending_input = int(match[2], 16), None
            continue
        if match := _OUTPUT_NAME.match(line):
            pending_output = match[1]
            continue
        if output is None:
            continue
        item = None
        if match := _FILL.match(line):
            item = (int(match[1], 16), int(match[2], 16), "*fill*", "*fill*")
        elif pending_input is not None:
            match = _ADDRESS_SIZE.match(line)
            if match and match[3]:
                item = (int(match[1], 16), int(match[2], 16), pending_input, match[3].strip())
            pending_input = None
        elif (match := _INPUT.match(line)) and not match[1].startswith("0x"):
            item = (int(match[2], 16), int(match[3], 16), match[1], match[4].strip())
        elif match := _INPUT_NAME.match(line):
            pending_input = match[1]
        if item is not None:
            address, size, section, source = item
            new = max(0, address + size - max(address, cursor)) if size else 0
            cursor = max(cursor, address + size)
            counted += new
            if new:
                yield output, section, source, new
    yield from rest()


def part_of(output: str, section: str, source: str, name: str) -> str:
    """Which part of the image an input section belongs to."""
    if output in (".heap", ".stack") and source in ("<reserved>", "*fill*"):
        return output[1:]
    if "tensor_arena" in section:
        return "tensor arena"
    if source.endswith(f"{name}_detector.cc.o") and re.search(r"frontend", section):
        return "frontend state"
    if source.endswith(f"{name}_detector.cc.o") and re.search(r"events", section):
        return "events state"
    if source.endswith(f"{name}_model_data.cc.o"):
        return "model"
    if source.endswith(f"{name}_frontend.c.o"):
        return "frontend"
    if source.endswith((f"{name}_events.c.o", f"{name}_detector.cc.o")):
        return "event logic"
    if "/cmsis_nn/" in source:
        return "CMSIS-NN"
    if "/tensorflow/lite/micro/kernels/" in source:
        return "TFLM kernels"
    if "/tflm/" in source:
        return "TFLM core"
    return "the rest"


def image_parts(map_file: Path, name: str) -> dict[str, dict[str, int]]:
    """``{"flash": {part: bytes}, "ram": {part: bytes}}`` of the image linked with ``map_file``."""
    flash: collections.Counter[str] = collections.Counter()
    ram: collections.Counter[str] = collections.Counter()
    for output, section, source, size in map_sections(map_file.read_text(errors="replace")):
        part = part_of(output, section, source, name)
        if output in FLASH_SECTIONS or output.startswith((".text", ".rodata")):
            flash[part] += size
        if output in RAM_SECTIONS:
            ram[part] += size
    return {"flash": dict(flash.most_common()), "ram": dict(ram.most_common())}


def parts_table(parts: dict[str, dict[str, int]]) -> str:
    """The parts as a Markdown table in KiB."""
    rows = ["| part | flash (KiB) | RAM (KiB) |", "|---|---|---|"]
    names = list(dict.fromkeys([*parts["flash"], *parts["ram"]]))
    for part in names:
        rows.append(
            f"| {part} | {parts['flash'].get(part, 0) / 1024:.1f} | {parts['ram'].get(part, 0) / 1024:.1f} |"
        )
    rows.append(
        f"| total | {sum(parts['flash'].values()) / 1024:.1f} | {sum(parts['ram'].values()) / 1024:.1f} |"
    )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m firmware_export.link_map",
        description="Flash and RAM of a built firmware image, part by part, from its linker map; "
        "added to the package's size_report.json.",
    )
    parser.add_argument("package", type=Path, help="the exported package, built with its Makefile")
    parser.add_argument("--target", default="cortex-m4-cmsis-nn", help="the build (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        report_path = args.package / "size_report.json"
        report = json.loads(report_path.read_text())
        map_file = args.package / "build" / args.target / f"{report['name']}_night.map"
        if not map_file.is_file():
            raise SensingError(f"{map_file}: not found; build it first: make -C {args.package} {args.target}")
        parts = image_parts(map_file, report["name"])
    except (OSError, ValueError, KeyError, SensingError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(parts_table(parts))
    report.setdefault("linked", {})[args.target] = {
        "flash_bytes": sum(parts["flash"].values()),
        "ram_bytes": sum(parts["ram"].values()),
        **parts,
    }
    write_atomically(report_path, json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
