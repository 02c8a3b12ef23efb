"""Result documents: provenance fields, strict JSON, atomic writes."""

import json
import os

import numpy as np
import pytest

from lmctheory import __version__
from lmctheory.runs import record, to_jsonable, write_json


def test_record_carries_config_seed_versions_and_definitions():
    doc = record(
        "demo",
        {"p": 2, "ns": np.array([1, 2])},
        {"value": np.float64(0.5)},
        seed=3,
        definitions={"W_p": "distance"},
        seconds=1.5,
    )
    assert doc["config"] == {"p": 2, "ns": [1, 2]} and doc["result"] == {"value": 0.5}
    assert doc["seed"] == 3 and doc["definitions"] == {"W_p": "distance"}
    assert doc["versions"]["lmctheory"] == __version__ and doc["versions"]["numpy"] == np.__version__
    json.dumps(doc, allow_nan=False)  # strictly valid JSON


def test_non_finite_floats_become_null():
    assert to_jsonable({"a": float("inf"), "b": [np.nan, 1.0]}) == {"a": None, "b": [None, 1.0]}


def test_write_json_is_atomic_and_leaves_no_temp_file(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "out.json"
    write_json(target, {"x": 1})
    assert json.loads(target.read_text()) == {"x": 1}

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_json(target, {"x": 2})
    assert json.loads(target.read_text()) == {"x": 1}  # old content intact
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]  # no temp file left


def test_the_checkout_is_found_from_the_installed_package():
    """Records written from a git checkout carry its commit: the checkout is the directory that holds the
    ``lmctheory`` package, wherever the module asking sits (it moved once into ``runs/`` and lost it)."""
    from pathlib import Path

    import lmctheory
    from lmctheory.runs import checkout_root, git_revision

    repo = Path(lmctheory.__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        pytest.skip("lmctheory is installed from a wheel here, not run from a checkout")
    assert checkout_root() == repo
    git_revision.cache_clear()
    assert len(git_revision()["commit"]) == 40
