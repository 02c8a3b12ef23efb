"""`lmctheory rerun FILE.json`: one result recomputed from its JSON alone, and compared."""

import json
import os
import subprocess
import sys

import lmctheory_paper.figures
import numpy as np
import pytest
from lmctheory_paper.validation import EXPERIMENTS

from lmctheory.runs import compare, load_results
from tests.conftest import run_cli
from tests.helpers import depth_smoke, one_line_error


def test_sweep_record_reruns_identically_and_a_tampered_one_is_caught(tmp_path):
    EXPERIMENTS["depth"].run("smoke", str(tmp_path), progress=False)
    record = load_results(tmp_path / "depth-smoke")[0]
    assert record["function"] == "lmctheory_paper.validation.depth:run_config"
    path = tmp_path / "depth-smoke" / f"{record['hash']}.json"
    code, out, _ = run_cli("rerun", str(path), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["result"]["identical"] and doc["result"]["n_differences"] == 0
    record["result"]["bound"][1] *= 1.5
    path.write_text(json.dumps(record))
    code, out, _ = run_cli("rerun", str(path))
    assert code == 1 and "result.bound[1]: recorded" in out
    assert run_cli("rerun", str(path), "--rtol", "0.6")[0] == 0  # within a stated tolerance


def _committed_records():
    return sorted(p for p in lmctheory_paper.figures.CACHE.glob("*/*.json"))


def _sample(seed, max_seconds=10.0):
    """One random record per committed sweep among those that took under ``max_seconds`` to compute."""
    import random

    rng = random.Random(seed)
    out = []
    for sweep in sorted(p for p in lmctheory_paper.figures.CACHE.iterdir() if p.is_dir()):
        cheap = [
            p
            for p in sorted(sweep.glob("*.json"))
            if (json.loads(p.read_text()).get("seconds") or 0) < max_seconds
        ]
        if cheap:
            out.append(rng.choice(cheap))
    return out


def test_a_random_sample_of_the_committed_cache_reruns_on_this_machine():
    """Records in paper/lmctheory_paper/figures/cache must be what the current code computes: re-run a random sample with
    `lmctheory rerun --across-machines` (this machine need not be the one that wrote them: trained results
    within the reproduction tolerance, computed ones to rounding; regenerate the cache with `make cache`)."""
    import datetime

    seed = int(os.environ.get("LMCTHEORY_RERUN_SEED", datetime.date.today().toordinal()))
    print(f"\nLMCTHEORY_RERUN_SEED={seed}")
    sample = _sample(seed)
    assert len(sample) >= 6
    for path in sample:
        code, out, err = run_cli("rerun", str(path), "--across-machines")
        assert code == 0 and "identical" in out and "code has changed" not in out, (path, out, err)


@pytest.mark.slow  # about a minute: run by make test-slow
def test_the_sample_reruns_on_another_kernel_path():
    """The same records recomputed with PyTorch's generic CPU kernels (ATEN_CPU_CAPABILITY=default instead of
    AVX2/AVX-512: other vector widths, other reduction orders), as on a machine with another instruction set:
    computed results within the reproduction tolerance, trained ones with the same structure (their values
    follow another training trajectory)."""

    from lmctheory.runs._rerun import reproduction_tolerance

    sample = _sample(seed=7)
    trained = [reproduction_tolerance(json.loads(p.read_text())) is None for p in sample]
    picked = [p for p, t in zip(sample, trained, strict=True) if t][:2]
    picked += [p for p, t in zip(sample, trained, strict=True) if not t][:3]
    assert len(picked) == 5
    env = {**__import__("os").environ, "ATEN_CPU_CAPABILITY": "default"}
    for path in picked:
        proc = subprocess.run(
            [sys.executable, "-m", "lmctheory.cli", "rerun", str(path), "--across-machines"],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
        assert proc.returncode == 0 and "identical" in proc.stdout, (path, proc.stdout, proc.stderr)


def test_across_machines_a_trained_result_is_checked_by_structure_and_a_computed_one_by_value():
    from lmctheory.runs._rerun import COMPUTED_TOLERANCE, reproduction_tolerance, structure_differences

    trained = {"function": "lmctheory_paper.validation.fig2:run_config"}
    assert reproduction_tolerance(trained) is None
    assert (
        reproduction_tolerance({"function": "lmctheory_paper.validation.depth:run_config"})
        == COMPUTED_TOLERANCE
    )
    recorded = {"error": [0.70, 0.69], "n": 1000, "bound": 1.5, "note": "x"}
    assert (
        structure_differences(recorded, {"error": [0.69, 0.71], "n": 1000, "bound": 1.7, "note": "x"}) == []
    )
    assert structure_differences(recorded, {"error": [0.69], "n": 1000, "bound": 1.7, "note": "x"}) == [
        "result.error: 2 entries recorded, 1 recomputed"
    ]
    assert structure_differences(
        recorded, {"error": [0.7, 0.69], "n": 1000, "bound": float("nan"), "note": "x"}
    ) == ["result.bound: recorded 1.5, recomputed None"]
    assert structure_differences(recorded, {"error": [0.7, 0.69], "n": 1000, "bound": 1.5}) == [
        "result.note: missing in the recomputed result"
    ]


def test_a_trained_record_reruns_bit_for_bit_on_the_machine_that_wrote_it(tmp_path):
    EXPERIMENTS["fig2"].run("smoke", str(tmp_path), progress=False)
    path = sorted((tmp_path / "fig2-smoke").glob("*.json"))[0]
    code, out, _ = run_cli("rerun", str(path))
    assert code == 0 and "identical to the recorded one" in out and "rtol" not in out


@pytest.mark.records
def test_every_committed_record_reruns_identically():
    for path in _committed_records():
        code, out, err = run_cli("rerun", str(path))
        assert code == 0 and "identical" in out, (path, out, err)


def test_every_committed_record_is_current():
    """Every committed record was written by the current code (function, config, code hash): the figures
    redraw from them without computing, and a stale one would be recomputed, never used."""
    from lmctheory.runs import code_changed

    records = _committed_records()
    assert len(records) > 100
    stale = [p.name for p in records if code_changed(json.loads(p.read_text())) is not False]
    assert not stale, (
        f"{len(stale)} committed records are stale or unregistered (run `make cache`): {stale[:5]}"
    )


@pytest.mark.parametrize(
    "function,config",
    [
        ("os:system", "touch PWNED_by_rerun"),
        ("builtins:eval", "__import__('os').getcwd()"),
        ("subprocess:run", ["touch", "PWNED_by_rerun"]),
        ("lmctheory.nosuch:f", {}),
        ("os:nosuch", {}),
        ("lmctheory_paper.validation.rates:run", "quick"),
    ],
)
def test_rerun_calls_only_registered_experiments(tmp_path, monkeypatch, function, config):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.json"
    path.write_text(json.dumps({"config": config, "function": function, "result": 0}))
    code, out, err = run_cli("rerun", str(path))
    assert code == 2 and out == "" and "not a registered experiment" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "PWNED_by_rerun").exists()


def test_records_of_users_own_sweeps_rerun_only_when_registered(tmp_path):
    from lmctheory.runs import register_experiment, rerun, run_sweep

    from .test_sweep import quick_square

    run_sweep(quick_square, [{"x": 3}], tmp_path, progress=False)
    path = next(tmp_path.glob("*.json"))
    code, _, err = run_cli("rerun", str(path))  # the README's sweep example: a clear refusal
    assert code == 2 and "tests.test_sweep:quick_square" in err and "register_experiment" in err
    register_experiment(quick_square)
    assert rerun(path)[1] == {"y": 9}


@pytest.mark.parametrize(
    "argv,match",
    [
        (["rates", "--help"], "help or the version"),
        (["--version"], "cannot be re-run"),
        (["validate", "--quick"], "cannot be re-run"),
        (["rate-bound", "--d", "5", "--plo", "PLOT.png"], "not a valid"),
        ("rate-bound --d 5", "list of strings"),
        ([], "list of strings"),
    ],
)
def test_cli_documents_rerun_only_commands_that_write_nothing(tmp_path, monkeypatch, argv, match):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps({"config": {}, "argv": argv, "result": {}}))
    code, out, err = run_cli("rerun", str(path))
    assert code == 2 and match in err, err
    assert not list(tmp_path.glob("PLOT*"))


def test_writing_options_are_removed_from_rerun_documents(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run_cli("rate-bound", "--d", "5", "--ns", "64,128", "--out", "rb.json")
    doc = json.loads((tmp_path / "rb.json").read_text())
    doc["argv"] += ["--out", "overwritten.json"]
    (tmp_path / "rb.json").write_text(json.dumps(doc))
    code, out, _ = run_cli("rerun", "rb.json")
    assert code == 0 and not (tmp_path / "overwritten.json").exists()


def test_cli_documents_rerun_from_their_argv(tmp_path):
    code, _, _ = run_cli("rate-bound", "--d", "5", "--ns", "64,128", "--out", str(tmp_path / "rb.json"))
    assert code == 0 and json.loads((tmp_path / "rb.json").read_text())["argv"][:3] == [
        "rate-bound",
        "--d",
        "5",
    ]
    code, out, _ = run_cli("rerun", str(tmp_path / "rb.json"))
    assert code == 0 and "identical" in out
    rng = np.random.default_rng(0)
    np.save(tmp_path / "x.npy", rng.normal(size=(30, 3)))
    np.save(tmp_path / "y.npy", rng.normal(size=(30, 3)))
    run_cli(
        "wasserstein",
        str(tmp_path / "x.npy"),
        str(tmp_path / "y.npy"),
        "--out",
        str(tmp_path / "w.json"),
    )
    assert run_cli("rerun", str(tmp_path / "w.json"))[0] == 0
    (tmp_path / "x.npy").unlink()  # the input is gone: a clear error, not a silent success
    code, _, err = run_cli("rerun", str(tmp_path / "w.json"))
    assert code == 2 and "x.npy" in err


@pytest.mark.parametrize(
    "content,match",
    [
        (None, "no such file"),
        ("{not json", "not a JSON document"),
        ('{"a": 1}', "no 'config'"),
        ('{"config": {}, "command": "mystery", "result": 1}', "names no function"),
        ('{"config": {}, "function": "x:y"}', "no 'result'"),
        ('{"config": {}, "status": "failed", "error": null}', "failed configuration"),
        ("[1, 2]", "no 'config'"),
        ('"x"', "no 'config'"),
        ('{"config": {}, "status": "failed", "error": {"type": "ValueError"}}', "failed configuration"),
    ],
)
def test_bad_rerun_inputs(tmp_path, content, match):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run_cli("rerun", str(path))
    assert code == 2 and out == "" and match in err


def test_compare_rules():
    assert compare({"a": [1.0, 2.0], "seconds": 3}, {"a": [1.0, 2.0], "seconds": 9}) == []
    assert compare({"a": float("nan")}, {"a": float("nan")}) == []
    assert compare({"a": 1.0}, {"a": 1.0 + 1e-9}, rtol=1e-6) == []
    assert compare({"a": [1, 2]}, {"a": [1]}) == ["result.a: 2 entries recorded, 1 recomputed"]
    assert compare({"a": 1}, {"b": 1}) == [
        "result.a: missing in the recomputed result",
        "result.b: not in the record",
    ]
    assert compare({"v": "relu"}, {"v": "tanh"}) == ["result.v: recorded 'relu', recomputed 'tanh'"]


def test_code_identity_excludes_the_generated_version_file():
    """lmctheory/_version.py is written at install time and differs between checkouts: a record's code
    identity must not depend on it (else a fresh clone would see the committed cache as stale)."""
    from lmctheory.runs import code_identity, experiments
    from lmctheory.runs._rerun import _function

    assert len(experiments()) == 9  # the installed lmctheory-paper's entry points
    for spec in sorted(experiments()):
        modules = code_identity(_function({"function": spec}, "test"))["modules"]
        assert not any(m.endswith("_version") for m in modules), (spec, modules)


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_rerun_refuses_a_record_naming_an_arbitrary_function(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 01: Rerun calls any function a JSON names."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    f = tmp / "evil.json"
    f.write_text(json.dumps({"config": f"touch {tmp / 'PWNED'}", "function": "os:system", "result": 0}))
    one_line_error(run_cli("rerun", f), 2, "not a registered experiment")
    assert not (tmp / "PWNED").exists()


def test_rerun_refuses_a_record_naming_eval(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 02: Rerun evaluates arbitrary Python."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    f = tmp / "evil.json"
    f.write_text(
        json.dumps({"config": "__import__('os').getcwd()", "function": "builtins:eval", "result": "x"})
    )
    one_line_error(run_cli("rerun", f), 2, "not a registered experiment")


def test_records_made_with_two_workers_rerun_identically(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 17: Rerun of records made with --n-jobs 2 differs."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    depth_smoke(tmp, "--n-jobs", "2")
    record = next((tmp / "depth-smoke").glob("*.json"))
    code, out, _ = run_cli("rerun", record)
    assert code == 0 and "identical" in out


def test_a_document_whose_argv_asks_for_help_is_not_rerun(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 18: Rerun of a document whose argv is --help 'succeeds'."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    f = tmp / "r.json"
    f.write_text(json.dumps({"config": {}, "argv": ["rates", "--help"], "result": {}}))
    one_line_error(run_cli("rerun", f), 2, "help")


def test_rerun_writes_no_file_through_an_abbreviated_option(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 21: Rerun writes files through an abbreviated option."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    f = tmp / "r.json"
    f.write_text(
        json.dumps(
            {
                "config": {},
                "argv": ["rates", "--d", "2", "--ns", "8,16", "--reps", "2", "--plo", str(tmp / "PLOT.png")],
                "result": {},
            }
        )
    )
    one_line_error(run_cli("rerun", f), 2, "not a valid")
    assert not list(tmp.glob("PLOT*"))


def test_rerun_naming_a_missing_module_or_attribute_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 37: Rerun naming a missing module / attribute."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    for function in ("lmctheory.nosuch:f", "os:nosuch"):
        f = tmp / "r.json"
        f.write_text(json.dumps({"config": {}, "function": function, "result": {}}))
        one_line_error(run_cli("rerun", f), 2, "not a registered experiment")


def test_rerun_of_malformed_documents_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 56: Rerun of malformed documents."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    for doc, words in (
        ({"config": {}, "argv": "rates --d 2", "result": {}}, "list of strings"),
        ({"config": {}, "function": "x:y"}, "no 'result'"),
        ({"config": {}, "status": "failed", "error": None}, "failed configuration"),
    ):
        (tmp / "r.json").write_text(json.dumps(doc))
        one_line_error(run_cli("rerun", tmp / "r.json"), 2, words)


def test_rerun_of_the_readme_sweep_example_record(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row R2: Rerun on a record of the README's sweep example."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    from lmctheory.runs import run_sweep

    from .test_sweep import quick_square

    run_sweep(quick_square, [{"x": 2}], tmp, progress=False)
    one_line_error(run_cli("rerun", next(tmp.glob("*.json"))), 2, "register_experiment")
