"""The layout's promises (docs/architecture.md): no import cycles, dependencies point one way,
and the runtime and the firmware export load without TensorFlow or plotting libraries."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from conftest import REPO_ROOT, run_python

PACKAGES = ("sensing", "training", "firmware_export")

LAYERS = {
    "sensing": 0,  # the package's own __init__: its version, nothing else
    "sensing.errors": 0,
    "sensing.progress": 0,
    "sensing.files": 0,
    "sensing.wording": 0,
    "sensing.plotting": 0,
    "sensing.bundled": 0,
    "sensing.synthetic": 0,
    "sensing.run_folder": 0,
    "sensing.tflite": 1,
    "sensing.audio": 2,
    "sensing.radar": 2,
    "sensing.night": 3,
    "sensing.history": 3,
    "sensing.mqtt": 3,
    "sensing.rig": 4,
    "sensing.cli": 5,
    "sensing.__main__": 6,
}
"""Each part of ``sensing`` may import its own part and lower layers only (the command line
reaches ``training`` and ``firmware_export`` lazily: the commands that train or export, and the
parser for the settings' defaults, which need numpy only), and audio and radar
know nothing of each other: ``sensing.night`` brings them together."""


def _modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path
    return modules


def _imports(path: Path, modules: dict[str, Path]) -> list[tuple[str, bool]]:
    """(imported project module, at module level) for every import in ``path``."""
    tree = ast.parse(path.read_text())
    top_level = set(map(id, tree.body))
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name:
                found.append((name, id(node) in top_level))
    return found


def _part(module: str) -> str:
    """The part of ``sensing`` in :data:`LAYERS` that ``module`` belongs to."""
    parts = [
        part for part in LAYERS if module == part or (part != "sensing" and module.startswith(part + "."))
    ]
    assert parts, f"{module} belongs to no part of the layout; add it to LAYERS"
    return max(parts, key=len)


def test_no_import_cycles_between_modules():
    modules = _modules()
    graph = {
        name: {
            target for target, _ in _imports(path, modules) if target != name and path.name != "__init__.py"
        }
        for name, path in modules.items()
    }
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(trail[trail.index(target) :] + [target])
            elif target not in state:
                visit(target, trail + [target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_dependencies_point_one_way():
    modules = _modules()
    wrong = []
    for name, path in modules.items():
        if name == "sensing":
            continue
        for target, top_level in _imports(path, modules):
            package, target_package = name.split(".")[0], target.split(".")[0]
            if package == "firmware_export" and target_package == "training":
                wrong.append(f"{name} imports {target}")
            if package == "sensing" and target_package != "sensing" and not name.startswith("sensing.cli"):
                wrong.append(f"{name} imports {target}")
            if (
                package == target_package == "sensing"
                and top_level
                and LAYERS[_part(target)] > LAYERS[_part(name)]
            ):
                wrong.append(f"{name} imports {target}, a higher layer")
            if {".".join(name.split(".")[:2]), ".".join(target.split(".")[:2])} == {
                "training.audio",
                "training.radar",
            }:
                wrong.append(f"{name} imports {target}: audio and radar training share only training.*")
            if package == target_package == "sensing" and {_part(name), _part(target)} == {
                "sensing.audio",
                "sensing.radar",
            }:
                wrong.append(f"{name} imports {target}: audio and radar meet in sensing.night")
    assert wrong == []


def test_runtime_and_firmware_export_load_without_tensorflow_or_plotting():
    code = """
        import importlib, json, pkgutil, sys
        loaded = []
        for package in ("sensing", "firmware_export"):
            root = importlib.import_module(package)
            for module in pkgutil.walk_packages(root.__path__, package + "."):
                if module.name.endswith("__main__"):
                    continue
                importlib.import_module(module.name)
                loaded.append(module.name)
        heavy = sorted({name.split(".")[0] for name in sys.modules}
                       & {"tensorflow", "tf_keras", "keras", "matplotlib", "h5py", "librosa",
                          "training", "scipy", "sounddevice", "paho"})
        print(json.dumps({"loaded": len(loaded), "heavy": heavy}))
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["loaded"] > 60
    assert report["heavy"] == []


def test_building_the_command_line_loads_no_tensorflow():
    code = """
        import json, sys
        from sensing.cli import build_parser
        build_parser()
        heavy = sorted({name.split(".")[0] for name in sys.modules}
                       & {"tensorflow", "tf_keras", "keras", "matplotlib", "h5py", "librosa", "scipy"})
        training = sorted(name for name in sys.modules if name.startswith("training."))
        print(json.dumps({"heavy": heavy, "training": training}))
    """
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    # the parser reads its defaults from the settings dataclasses, which need numpy only
    assert "training.audio.config" in report["training"] and "training.model" not in report["training"]
