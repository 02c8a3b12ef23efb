"""``lmctheory align``: any model's checkpoints aligned by a traced spec, the permuted B written, the path
before and after; bad options named in one line."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lmctheory.cli import main
from lmctheory.lmc import Permutation, apply_permutation
from lmctheory.nn import _zoo as zoo
from tests.conftest import run_cli
from tests.helpers import EvilPickle, checkpoint_pair, one_line_error

FACTORY = "lmctheory.nn:ResNet20"
ARGS = json.dumps({"input_shape": [1, 8, 8], "blocks": 1})
MODELS = {
    "ResNet20": {"input_shape": [1, 8, 8], "blocks": 1},
    "ViT": {"input_shape": [1, 8, 8], "patch": 4, "dim": 8, "depth": 1, "heads": 2, "mlp": 16},
}


@pytest.fixture(params=sorted(MODELS))
def planted(tmp_path, request):
    """A (a random ResNet-20 or ViT) and B = A with every hidden permutation planted, written as
    state_dicts; the factory and its arguments are on ``tmp_path.factory``."""
    torch.manual_seed(0)
    kwargs = MODELS[request.param]
    a = getattr(zoo, request.param)(**{**kwargs, "input_shape": tuple(kwargs["input_shape"])}).eval()
    (tmp_path / "factory.json").write_text(json.dumps([f"lmctheory.nn:{request.param}", kwargs]))
    spec = a.permutation_spec()
    rng = np.random.default_rng(1)
    b = apply_permutation(
        a, Permutation({k: rng.permutation(n) for k, n in spec.sizes.items()}, "planted", spec, {})
    )
    torch.save(a.state_dict(), tmp_path / "a.pt")
    torch.save({"state_dict": b.state_dict()}, tmp_path / "b.pt")  # the Lightning-style wrapper is accepted
    return a, tmp_path


def test_a_planted_permutation_is_undone_and_the_aligned_path_is_flat(planted, capsys):
    a, tmp = planted
    out = tmp / "b_aligned.pt"
    factory, kwargs = json.loads((tmp / "factory.json").read_text())
    argv = [
        str(tmp / "a.pt"),
        str(tmp / "b.pt"),
        "--model",
        factory,
        "--model-args",
        json.dumps(kwargs),
        "--data",
        "digits",
    ]
    assert main(["align", *argv, "--points", "5", "--out-model", str(out), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    restored = torch.load(out, weights_only=True)
    for k, v in a.state_dict().items():
        assert torch.equal(restored[k], v), k
    paths = doc["result"]["paths"]
    assert paths["aligned"]["barriers"]["loss"]["above_chord"] == pytest.approx(0.0, abs=1e-6)
    if "ResNet20" in factory:  # an untrained ViT's outputs are nearly constant: no barrier to undo
        assert paths["unaligned"]["barriers"]["loss"]["above_chord"] > 1e-3
    assert (
        doc["config"]["method"] == "full" and doc["result"]["spec_source"] == "the model's permutation_spec()"
    )


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--model", "lmctheory.nn"], "--model must be MODULE:FACTORY"),
        (["--model", "lmctheory.nn:NoSuchNet", "--data", "digits"], "NoSuchNet"),
        (["--model", FACTORY, "--model-args", "[1]", "--data", "digits"], "--model-args"),
        (["--model", FACTORY, "--model-args", ARGS], "--model needs --data"),
        (["--model", FACTORY, "--data", "digits"], "does not fit the model"),
    ],
)
def test_bad_options_are_one_line_usage_errors(planted, capsys, extra, message):
    _, tmp = planted
    assert main(["align", str(tmp / "a.pt"), str(tmp / "b.pt"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_pickle_that_would_run_code_is_refused(planted, capsys):
    _, tmp = planted
    torch.save({"weights": torch.zeros(1), "evil": object()}, tmp / "evil.pt")
    factory, kwargs = json.loads((tmp / "factory.json").read_text())
    argv = [
        "align",
        str(tmp / "a.pt"),
        str(tmp / "evil.pt"),
        "--model",
        factory,
        "--model-args",
        json.dumps(kwargs),
    ]
    assert main([*argv, "--data", "digits"]) == 2
    assert "not a weights-only state_dict" in capsys.readouterr().err


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_a_sidecar_declaring_huge_layers_is_refused_before_allocating(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 32: A sidecar declaring 200,000-wide layers."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    a, b = checkpoint_pair(tmp)
    side = json.loads(a.with_suffix(".json").read_text())
    side["model"]["widths"] = [200000, 200000, 10]
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(run_cli("barrier", a, b), 2, "does not match its config")


def test_a_checkpoint_with_a_wrong_tensor_shape_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 33: A checkpoint with a wrong tensor shape."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    a, b = checkpoint_pair(tmp)
    state = torch.load(a, weights_only=True)
    state["layers.0.weight"] = torch.zeros(16, 63)
    torch.save(state, a)
    side = json.loads(a.with_suffix(".json").read_text())
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(run_cli("barrier", a, b), 2, "layers.0.weight")


def test_a_malicious_pickle_checkpoint_is_refused_and_nothing_runs(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 34: A malicious pickle checkpoint: refused in one line, nothing run."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    a, b = checkpoint_pair(tmp)
    torch.save({"x": EvilPickle()}, a)
    side = json.loads(a.with_suffix(".json").read_text())
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(run_cli("barrier", a, b), 2, "weights-only")
    assert not Path("PWNED_by_pickle").exists()


def test_malformed_checkpoints_are_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 57: Malformed checkpoints: a sidecar that is a list, all-NaN weights."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    a, b = checkpoint_pair(tmp)
    sidecar = a.with_suffix(".json").read_text()
    a.with_suffix(".json").write_text("[1, 2]")
    one_line_error(run_cli("barrier", a, b), 2, "sidecar")
    a.with_suffix(".json").write_text(sidecar)
    state = {k: torch.full_like(v, float("nan")) for k, v in torch.load(a, weights_only=True).items()}
    torch.save(state, a)
    side = json.loads(sidecar)
    side.pop("weights_sha256")
    a.with_suffix(".json").write_text(json.dumps(side))
    one_line_error(run_cli("barrier", a, b), 2, "non-finite")
