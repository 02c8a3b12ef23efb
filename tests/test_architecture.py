"""The package's architecture, checked: import-linter's layers contract (pyproject.toml), no import cycle
between modules, no private name crossing a subpackage, and the paper package using public names only.

Each check is shown to fail on a planted violation in a copy of the package."""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LIBRARY = REPO / "lmctheory"
PAPER = [p for p in (REPO / "paper").glob("lmctheory_*") if p.is_dir()] if (REPO / "paper").is_dir() else []
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter on the package found first on the path ``root`` (the repository or a copy)."""
    return subprocess.run(
        [str(LINT_IMPORTS), str(REPO / "pyproject.toml"), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> first-party modules it imports (anywhere in it: lazy imports count), from the AST."""
    graph = {}
    for path in (root / "lmctheory").rglob("*.py"):
        rel = path.relative_to(root).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if rel.name == "__init__" else name.rpartition(".")[0]
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1])
                    target = f"{base}.{node.module}" if node.module else base
                else:
                    target = node.module or ""
                graph[name].update((target, a.name) for a in node.names)
            elif isinstance(node, ast.Import):
                graph[name].update((a.name, None) for a in node.names)
    # `from package import module` imports the module (the package is already being imported)
    return {
        m: {f"{t}.{n}" if f"{t}.{n}" in graph else t for t, n in targets} & set(graph) - {m}
        for m, targets in graph.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan). The root package, imported
    by its submodules for ``__version__`` only, is left out: it imports nothing of its own."""
    graph = {m: t - {"lmctheory"} for m, t in graph.items() if m != "lmctheory"}
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def subpackage(module: str) -> str:
    """``lmctheory.ot._exact`` -> ``lmctheory.ot``; top-level modules stand for themselves."""
    return ".".join(module.split(".")[:2])


def private_crossings(root: Path) -> list[str]:
    """Imports of a private module or name of one subpackage from another (or from outside)."""
    found = []
    files = [(p, True) for p in (root / "lmctheory").rglob("*.py")]
    for package in (root / "paper").glob("lmctheory_*") if (root / "paper").is_dir() else []:
        files += [(p, False) for p in package.rglob("*.py")]
    for path, in_library in files:
        rel = path.relative_to(root).with_suffix("")
        name = ".".join(rel.parts[1:] if rel.parts[0] == "paper" else rel.parts)
        package = name if rel.name == "__init__" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            if target.split(".")[0] != "lmctheory" or target in ("lmctheory", "lmctheory._version"):
                continue
            same = in_library and subpackage(target) == subpackage(name)
            private_parts = [p for p in target.split(".")[1:] if p.startswith("_")]
            private_names = [a.name for a in node.names if a.name.startswith("_")]
            if not same and (private_parts or private_names):
                found.append(
                    f"{path.relative_to(root)}:{node.lineno} imports {private_names or ''} from {target}"
                )
    return found


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A copy of the package with an upward import (ot -> nn), a cycle across two layers (ot -> rates, while
    rates imports ot), a cycle inside ``bounds`` and a private name imported across subpackages."""
    root = tmp_path_factory.mktemp("planted")
    shutil.copytree(LIBRARY, root / "lmctheory", ignore=shutil.ignore_patterns("__pycache__"))
    with open(root / "lmctheory" / "ot" / "_bottleneck.py", "a") as f:
        f.write("\n\ndef _planted():\n    from ..nn import MLP\n\n    return MLP\n")
    with open(root / "lmctheory" / "ot" / "_exact.py", "a") as f:
        f.write("\n\ndef _planted_cycle():\n    from ..rates import fg_rate\n\n    return fg_rate\n")
    with open(root / "lmctheory" / "bounds" / "_towers.py", "a") as f:
        f.write(
            "\n\ndef _planted():\n    from ._width import ferbach_two_layer\n\n    return ferbach_two_layer\n"
        )
    with open(root / "lmctheory" / "dimension" / "_manifolds.py", "a") as f:
        f.write("\n\ndef _planted():\n    from ..rates._laws import Law\n\n    return Law\n")
    return root


def test_layers_contract_holds():
    run = lint_imports(REPO)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 2 kept, 0 broken" in run.stdout, run.stdout


def test_layers_contract_fails_on_an_upward_import(planted):
    run = lint_imports(planted)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "lmctheory.ot._bottleneck -> lmctheory.nn" in run.stdout, run.stdout


def test_layers_contract_fails_on_a_cycle_across_layers(planted):
    # rates imports ot (rate curves transport samples); the planted ot -> rates import closes a cycle
    run = lint_imports(planted)
    assert run.returncode == 1 and "lmctheory.ot._exact -> lmctheory.rates" in run.stdout, run.stdout
    found = cycles(import_graph(planted))
    assert any("lmctheory.ot._exact" in c and any(m.startswith("lmctheory.rates") for m in c) for c in found)


def test_no_import_cycle():
    assert cycles(import_graph(REPO)) == []


def test_a_planted_cycle_is_found(planted):
    assert ["lmctheory.bounds._towers", "lmctheory.bounds._width"] in cycles(import_graph(planted))


def test_no_private_name_crosses_a_subpackage():
    assert private_crossings(REPO) == []


def test_a_planted_private_import_is_found(planted):
    found = private_crossings(planted)
    assert len(found) == 1 and "lmctheory/dimension/_manifolds.py" in found[0] and "rates._laws" in found[0]


@pytest.mark.parametrize("face", ["ot", "rates", "dimension", "bounds", "nn", "lmc", "runs", "claims"])
def test_every_subpackage_has_a_public_face(face):
    import importlib

    module = importlib.import_module(f"lmctheory.{face}")
    assert module.__all__ and len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        obj = getattr(module, name)
        assert not name.startswith("_"), name
        if callable(obj) and getattr(obj, "__module__", "").startswith("lmctheory."):
            assert obj.__module__.startswith(f"lmctheory.{face}."), (name, obj.__module__)


def test_the_readme_functions_are_importable_from_the_top_level_lazily():
    import importlib

    import lmctheory

    for name, face in lmctheory._LAZY.items():
        assert getattr(lmctheory, name) is getattr(importlib.import_module(f"lmctheory.{face}"), name), name
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        lmctheory.no_such_name  # noqa: B018
    code = "import sys, lmctheory; lmctheory.wasserstein; print('torch' in sys.modules)"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == "False", run.stderr  # the core needs no torch


def test_every_top_level_module_is_in_a_layer():
    """A new subpackage or module must be placed in the layers contract (or it escapes it)."""
    text = (REPO / "pyproject.toml").read_text()
    layers = text[text.index("layers = [") : text.index("]", text.index("layers = ["))]
    named = {name.strip() for name in re.findall(r"lmctheory\.[a-z_]+", layers)}
    present = {
        f"lmctheory.{p.stem if p.is_file() else p.name}"
        for p in LIBRARY.iterdir()
        if (p.suffix == ".py" or (p / "__init__.py").exists()) and not p.name.startswith("_")
    }
    assert present - named == set(), present - named
