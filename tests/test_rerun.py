"""`lmctheory rerun FILE.json`: one result recomputed from its JSON alone, and compared."""

import json
import shutil

import lmctheory_figures
import numpy as np
import pytest
from lmctheory_validation import EXPERIMENTS

from lmctheory.cli import main
from lmctheory.rerun import compare
from lmctheory.sweep import load_results


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_sweep_record_reruns_identically_and_a_tampered_one_is_caught(capsys, tmp_path):
    EXPERIMENTS["depth"].run("smoke", str(tmp_path), progress=False)
    record = load_results(tmp_path / "depth-smoke")[0]
    assert record["function"] == "lmctheory_validation.depth:run_config"
    path = tmp_path / "depth-smoke" / f"{record['hash']}.json"
    code, out, _ = run(capsys, "rerun", str(path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["result"]["identical"] and doc["result"]["n_differences"] == 0
    record["result"]["bound"][1] *= 1.5
    path.write_text(json.dumps(record))
    code, out, _ = run(capsys, "rerun", str(path))
    assert code == 1 and "result.bound[1]: recorded" in out
    assert run(capsys, "rerun", str(path), "--rtol", "0.6")[0] == 0  # within a stated tolerance


def test_committed_cache_record_without_function_field(capsys, tmp_path):
    src = sorted((lmctheory_figures.CACHE / "depth-quick").glob("*.json"))[0]
    assert "function" not in json.loads(src.read_text())  # older record: resolved from its command
    shutil.copy(src, tmp_path / src.name)
    code, out, _ = run(capsys, "rerun", str(tmp_path / src.name))
    assert code == 0 and "identical" in out


def test_cli_documents_rerun_from_their_argv(capsys, tmp_path):
    code, _, _ = run(capsys, "rate-bound", "--d", "5", "--ns", "64,128", "--out", str(tmp_path / "rb.json"))
    assert code == 0 and json.loads((tmp_path / "rb.json").read_text())["argv"][:3] == ["rate-bound", "--d", "5"]
    code, out, _ = run(capsys, "rerun", str(tmp_path / "rb.json"))
    assert code == 0 and "identical" in out
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(30, 3)))
    np.save(tmp_path / "y.npy", rng.normal(size=(30, 3)))
    run(capsys, "wasserstein", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "--out", str(tmp_path / "w.json"))
    assert run(capsys, "rerun", str(tmp_path / "w.json"))[0] == 0
    (tmp_path / "x.npy").unlink()  # the input is gone: a clear error, not a silent success
    code, _, err = run(capsys, "rerun", str(tmp_path / "w.json"))
    assert code == 2 and "x.npy" in err


@pytest.mark.parametrize("content,match", [(None, "no such file"), ("{not json", "not a JSON document"),
                                           ('{"a": 1}', "no 'config'"),
                                           ('{"config": {}, "command": "mystery", "result": 1}', "cannot tell"),
                                           ('{"config": {}, "status": "failed", "error": {"type": "ValueError"}}',
                                            "failed configuration")])
def test_bad_rerun_inputs(capsys, tmp_path, content, match):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run(capsys, "rerun", str(path))
    assert code == 2 and out == "" and match in err


def test_compare_rules():
    assert compare({"a": [1.0, 2.0], "seconds": 3}, {"a": [1.0, 2.0], "seconds": 9}) == []
    assert compare({"a": float("nan")}, {"a": float("nan")}) == []
    assert compare({"a": 1.0}, {"a": 1.0 + 1e-9}, rtol=1e-6) == []
    assert compare({"a": [1, 2]}, {"a": [1]}) == ["result.a: length 2 != 1"]
    assert compare({"a": 1}, {"b": 1}) == ["result.a: present in only one of them", "result.b: present in only one of them"]
    assert compare({"v": "relu"}, {"v": "tanh"}) == ["result.v: recorded 'relu', recomputed 'tanh'"]
