"""The documentation keeps its promises: every public object has a full numpydoc docstring, every
``theory-*`` reference resolves to a section of the theory chapter, nothing cites a file users do
not have, and the README stays short."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import numpydoc.docscrape as numpydoc  # a dev dependency: this test must run in CI, not be skipped
import pytest

import lmctheory

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = re.compile(r"(?<![\w-])theory-[a-z0-9]+(?:-[a-z0-9]+)*")
LABEL = re.compile(r"^\.\. _(theory(?:-[a-z0-9]+)*):\s*$", re.MULTILINE)


def _public_objects():
    """``(qualified name, object)`` of every function and class in a public module's ``__all__`` that the
    module or one of its private submodules defines (re-exports from elsewhere are checked where they are
    defined)."""
    out = []
    modules = [lmctheory.__name__] + [
        m.name
        for m in pkgutil.walk_packages(lmctheory.__path__, "lmctheory.")
        if not any(part.startswith("_") for part in m.name.split("."))
    ]
    for name in modules:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            module_of = getattr(obj, "__module__", None) or ""
            defined_here = module_of == name or module_of.startswith(f"{name}._")
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and defined_here:
                out.append((f"{name}.{attr}", obj))
    return out


OBJECTS = _public_objects()


def _has_parameters(obj) -> bool:
    if getattr(obj, "_is_protocol", False):
        return False  # a typing.Protocol describes objects; it is never constructed
    try:
        signature = inspect.signature(obj)  # a class: its constructor's parameters, without self
    except (TypeError, ValueError):
        return False
    return any(p.name not in ("self", "cls") for p in signature.parameters.values())


def _validates(obj) -> bool:
    """Whether constructing the class checks its arguments: any class but a plain dataclass (whose
    generated ``__init__`` only stores the fields) or a dataclass with a ``__post_init__``."""
    if not dataclasses.is_dataclass(obj):
        return True
    return any("__post_init__" in vars(base) for base in obj.__mro__)


def _required_sections(obj) -> list[str]:
    """Functions: Parameters (when they take any), Returns, Raises (when they take parameters: bad
    input must have a documented error), Examples. Classes: Parameters (when constructed with
    arguments), Raises (when construction checks them) and Examples. Warning and exception classes
    only need a summary: they are raised, not called."""
    if inspect.isclass(obj) and issubclass(obj, (Warning, Exception)):
        return []
    sections = ["Examples"]
    if _has_parameters(obj):
        sections.append("Parameters")
        if not inspect.isclass(obj) or _validates(obj):
            sections.append("Raises")
    if not inspect.isclass(obj):
        sections.append("Returns")
    return sections


def test_the_public_api_is_enumerated():
    assert len(OBJECTS) > 130


@pytest.mark.parametrize("name,obj", OBJECTS, ids=[n for n, _ in OBJECTS])
def test_every_public_object_has_a_full_numpydoc_docstring(name, obj):
    doc = inspect.getdoc(obj)
    assert doc and doc.strip(), f"{name} has no docstring"
    parsed = (numpydoc.ClassDoc if inspect.isclass(obj) else numpydoc.FunctionDoc)(obj)
    assert parsed["Summary"], f"{name}: no summary line"
    missing = [s for s in _required_sections(obj) if not parsed[s]]
    assert not missing, f"{name}: missing numpydoc sections {missing}"
    if "Examples" in _required_sections(obj):
        assert ">>>" in "\n".join(parsed["Examples"]), f"{name}: the Examples section runs nothing"


def test_the_section_check_can_fail():
    def undocumented(x):
        """Only a summary."""

    parsed = numpydoc.FunctionDoc(undocumented)
    assert [s for s in _required_sections(undocumented) if not parsed[s]] == [
        "Examples",
        "Parameters",
        "Raises",
        "Returns",
    ]


def _labels() -> set[str]:
    return {m for path in (ROOT / "docs" / "theory").glob("*.rst") for m in LABEL.findall(path.read_text())}


def _cited_files():
    for folder in ("lmctheory", "paper", "tests", "docs", "examples"):
        for path in (ROOT / folder).rglob("*"):
            if (
                path.suffix in (".py", ".md", ".rst")
                and "_build" not in path.parts
                and "generated" not in path.parts
            ):
                yield path
    yield ROOT / "README.md"


def test_every_theory_reference_resolves_to_a_section_of_the_theory_chapter():
    labels = _labels()
    assert len(labels) > 30
    unresolved = {}
    for path in _cited_files():
        if path == Path(__file__):
            continue
        for ref in set(REFERENCE.findall(path.read_text(encoding="utf-8"))):
            if ref not in labels:
                unresolved.setdefault(ref, []).append(str(path.relative_to(ROOT)))
    assert not unresolved, f"references to no section of docs/theory: {unresolved}"


def test_the_reference_check_can_fail():
    assert REFERENCE.findall("see :ref:`theory-no-such-section` and theory-lmc") == [
        "theory-no-such-section",
        "theory-lmc",
    ]
    assert "theory-no-such-section" not in _labels()


def test_nothing_cites_a_file_users_do_not_have():
    pattern = re.compile(r"THEORY\.md|THEORY §|THEORY s\.|\.\./shared|DESIGN\.md")
    offenders = [
        str(p.relative_to(ROOT))
        for p in _cited_files()
        if p != Path(__file__) and pattern.search(p.read_text())
    ]
    assert not offenders


def test_readme_is_at_most_250_lines():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250


def test_every_failing_row_of_the_adversarial_review_is_a_named_test():
    """docs/user_guide/conventions.md promises one named test per failing row of the review of acd35e6
    (rows 01-61 and the README rows R1-R5), the row in its docstring."""
    found = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        found |= set(re.findall(r"Adversarial review of acd35e6, row (\w+):", path.read_text()))
    assert found == {f"{i:02d}" for i in range(1, 62)} | {f"R{i}" for i in range(1, 6)}
