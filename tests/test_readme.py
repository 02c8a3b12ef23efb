"""The Python examples of the README and of the user guide run, and the README's commands exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = sorted((ROOT / "docs" / "user_guide").glob("*.md"))


def python_blocks(path=README):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    exec(compile(python_blocks()[index], f"README.md[python block {index}]", "exec"), {"__name__": "readme"})


GUIDE_BLOCKS = [(path, i) for path in GUIDE for i in range(len(python_blocks(path)))]


@pytest.mark.parametrize("path,index", GUIDE_BLOCKS, ids=[f"{p.stem}-{i}" for p, i in GUIDE_BLOCKS])
def test_user_guide_python_example_runs(path, index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = python_blocks(path)[index]
    exec(compile(code, f"{path.name}[python block {index}]", "exec"), {"__name__": "guide"})


def test_the_user_guide_has_examples():
    assert len(GUIDE_BLOCKS) >= 5


def test_readme_cli_examples_name_real_subcommands():
    from lmctheory.cli import build_parser

    subcommands = set(build_parser()._subparsers._group_actions[0].choices)
    shell = "\n".join(re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S))
    used = set(re.findall(r"^lmctheory ([a-z-]+)", shell, flags=re.M))
    assert used and used <= subcommands, used - subcommands


def test_readme_setup_commands_match_the_makefile_and_ci():
    text = README.read_text()
    assert "make demo" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "\nmake test\n" in ci
