"""The Python examples of the README and of the user guide run, and the README's commands exist."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
GUIDE = sorted((ROOT / "docs" / "user_guide").glob("*.md"))


def python_blocks(path=README):
    return re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)


BLOCKS = [(path, i) for path in (README, *GUIDE) for i in range(len(python_blocks(path)))]
GUIDE_BLOCKS = [(path, i) for path, i in BLOCKS if path != README]


@pytest.mark.parametrize("path,index", BLOCKS, ids=[f"{p.stem}-{i}" for p, i in BLOCKS])
def test_python_example_runs(path, index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    code = python_blocks(path)[index]
    exec(compile(code, f"{path.name}[python block {index}]", "exec"), {"__name__": path.stem.lower()})


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
