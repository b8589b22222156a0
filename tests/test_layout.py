"""The package's layout rules: folders by lesson, dependencies one way, small modules, re-exporting
`__init__` files, and a wheel that carries every subpackage."""

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import xlmlab

PACKAGE = Path(xlmlab.__file__).resolve().parent
ROOT = PACKAGE.parent

# What each part of the package may import from the rest of it; everything not listed is refused.
# Subpackages are one unit each; the other names are top-level modules.
ALLOWED = {
    "paths": set(),
    "device": set(),
    "hub": set(),
    "stats": set(),
    "exercises": set(),
    "figures": set(),
    "parallel": {"paths"},
    "models": {"paths"},
    "tokenizers": {"paths"},
    "vocab": {"paths", "tokenizers", "parallel"},
    "tiny_clm": {"paths", "models", "tokenizers", "vocab"},
    "tiny_models": {"paths", "models", "tokenizers", "vocab", "tiny_clm", "tiny_mlm"},
    "tiny_mlm": {"parallel", "pretrain", "train"},
    "load": {"paths", "models", "tokenizers", "hub", "tiny_models"},
    "train": {"paths", "device", "models", "tokenizers", "load"},
    "nli": {"paths", "device", "models", "tokenizers", "load", "train"},
    "ner": {"paths", "device", "models", "tokenizers", "load", "train", "parallel"},
    "pretrain": {"paths", "device", "models", "tokenizers", "load", "train", "parallel"},
    "probe": {"models", "tokenizers"},
    "cli": {"paths", "device", "hub", "models", "tokenizers", "vocab", "tiny_clm", "tiny_models", "load", "train",
            "nli", "ner", "pretrain", "parallel"},
    "__main__": {"cli"},
}
# Imports made inside a function, the one way round a cycle the design has: building an embedded
# pretrained model runs the runner, which loads models by name through tiny_models. The recipe
# only ever passes directories, so the cycle never turns at run time; the test below checks that
# these imports stay out of the module's top level.
LAZY = {("xlmlab.tiny_models", "xlmlab.tiny_mlm")}
PUBLIC = ["load_model", "load_tokenizer", "save_model", "build_model", "generate_text", "read_xnli", "Runner",
          "Settings", "TrainingDiverged", "PUBLISHED", "XLMConfig", "XLMRConfig", "XLMModel", "XLMWithLMHead",
          "XLMForSequenceClassification", "XLMRModel", "XLMRForMaskedLM", "XLMRForSequenceClassification",
          "SentencePieceTokenizer", "XLMTokenizer", "CheckpointError", "ConfigError", "DataError",
          "ModelNotFoundError", "TokenizerError", "try_gpu", "fill_mask", "embed"]


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path) -> set[str]:
    """The xlmlab modules `name` imports, at any depth of its code (function-level imports too)."""
    return set().union(*(imports_of(name, path, node) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))))


def imports_of(name: str, path: Path, node: ast.AST) -> set[str]:
    """The xlmlab modules one AST node imports (none if it is not an import)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    if isinstance(node, ast.Import):
        found |= {a.name for a in node.names if a.name.split(".")[0] == "xlmlab"}
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = package.split(".")[:len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        elif node.module and node.module.split(".")[0] == "xlmlab":
            target = node.module
        else:
            return found
        known = modules()
        for alias in node.names:  # `from . import x` imports the module x
            found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
    return found


def unit(module: str) -> str:
    """xlmlab.models.xlm -> models; xlmlab.load -> load; xlmlab -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_dependencies_point_one_way():
    wrong = []
    for name, path in modules().items():
        source = unit(name)
        for target in imports(name, path):
            if target == "xlmlab" and source != "__init__":
                wrong.append(f"{name} imports the package front door")
            elif unit(target) != source and source != "__init__" and unit(target) not in ALLOWED[source]:
                wrong.append(f"{name} -> {target} ({source} may import {sorted(ALLOWED[source])})")
    assert not wrong, "\n".join(wrong)


def test_the_module_graph_has_no_cycle():
    graph = {name: imports(name, path) - {name} for name, path in modules().items()}
    graph = {name: {t for t in targets if t in graph and t != "xlmlab"} for name, targets in graph.items()}
    for name in graph:  # a package imports what its __init__ re-exports: not an edge back to it
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".") and (name, t) not in LAZY}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                pytest.fail("import cycle: " + " -> ".join(trail[trail.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_the_lazy_imports_are_made_inside_functions_only():
    found = modules()
    for source, target in LAZY:
        tree = ast.parse(found[source].read_text(encoding="utf-8"))
        top = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        top_level = set().union(*(imports_of(source, found[source], node) for node in top)) if top else set()
        assert target in imports(source, found[source]), f"{source} no longer imports {target}: drop it from LAZY"
        assert target not in top_level, f"{source} imports {target} at its top level: it must stay inside a function"


def test_every_unit_of_the_package_is_in_the_dependency_table():
    units = {unit(name) for name in modules()} - {"__init__"}
    assert units == set(ALLOWED)


def test_init_files_only_re_export():
    for path in modules().values():
        if path.name != "__init__.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            names = isinstance(node, ast.Assign) and all(
                isinstance(t, ast.Name) and t.id in ("__all__", "__version__") for t in node.targets)
            assert docstring or names or isinstance(node, (ast.Import, ast.ImportFrom)), \
                f"{path.relative_to(ROOT)}:{node.lineno}: an __init__ file holds re-exports only"


def test_the_public_api_is_importable_from_the_front_door():
    missing = [name for name in PUBLIC if not hasattr(xlmlab, name)]
    assert not missing
    assert set(PUBLIC) <= set(xlmlab.__all__)
    assert xlmlab.Runner is xlmlab.nli.NLIRunner and issubclass(xlmlab.Runner, xlmlab.train.Runner)


def test_no_module_is_longer_than_a_reader_holds_in_their_head():
    long = {str(path.relative_to(ROOT)): n for path in modules().values()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long


def test_a_wheel_install_carries_every_subpackage(tmp_path):
    source = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT / "xlmlab", source / "xlmlab", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("xlmlab-*.whl"))
    inside = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")}
    assert {str(p.relative_to(ROOT)) for p in modules().values()} <= inside

    target = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                                str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    code = ("import xlmlab, xlmlab.models, xlmlab.tokenizers, xlmlab.vocab, xlmlab.train, xlmlab.nli, "
            "xlmlab.pretrain, xlmlab.cli; "
            "print(xlmlab.__file__)")
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert Path(run.stdout.strip()).is_relative_to(target)
