"""Dataset loaders: built-in, generated, synthetic and user files (written here)."""

import gzip
import struct

import numpy as np
import pytest
import torch

from lmctheory.nn import find_idx_files, load_dataset, load_dataset_spec, parse_dataset_spec, read_idx
from tests.helpers import (
    idx_dir,
    idx_train,
    npz_train,
    one_line_error,
    write_idx,
)


def test_digits_is_standardised_with_a_fixed_split():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.x_train.shape == (1347, 64) and a.x_test.shape == (450, 64) and a.input_shape == (1, 8, 8)
    assert torch.equal(a.x_train, b.x_train) and a.n_classes == 10
    assert a.x_train.mean(0).abs().max() < 1e-5
    assert set(a.y_test.tolist()) == set(range(10))


def test_mnist1d_is_generated_locally():
    d = load_dataset("mnist1d")
    assert d.x_train.shape == (4000, 40) and d.x_test.shape == (1000, 40) and d.n_classes == 10


def test_synthetic_tasks():
    t = load_dataset("teacher", d=8, n_train=500, n_test=100, classes=3, seed=1)
    assert t.x_train.shape == (500, 8) and set(t.y_train.tolist()) <= {0, 1, 2}
    assert torch.equal(
        t.y_train, load_dataset("teacher", d=8, n_train=500, n_test=100, classes=3, seed=1).y_train
    )
    r = load_dataset("teacher", d=8, task="regression", n_train=50, n_test=10)
    assert r.y_train.dtype == torch.float32 and r.n_classes == 0

    def nearest_mean_accuracy(ds):
        means = torch.stack([ds.x_train[ds.y_train == k].mean(0) for k in range(ds.n_classes)])
        return (torch.cdist(ds.x_test, means).argmin(1) == ds.y_test).float().mean().item()

    easy = load_dataset("gaussian_mixture", separation=6.0, d=5, classes=4)
    hard = load_dataset("gaussian_mixture", separation=0.5, d=5, classes=4)
    assert nearest_mean_accuracy(easy) > 0.95 > 0.6 > nearest_mean_accuracy(hard)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_files_round_trip(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(20, 6, 5), dtype=np.uint8)
    labels = rng.integers(0, 3, size=20).astype(np.uint8)
    suffix = ".gz" if compress else ""
    paths = {}
    for split, sl in (("train", slice(0, 15)), ("test", slice(15, 20))):
        paths[f"{split}_images"] = tmp_path / f"{split}-images-idx3-ubyte{suffix}"
        paths[f"{split}_labels"] = tmp_path / f"{split}-labels-idx1-ubyte{suffix}"
        write_idx(paths[f"{split}_images"], images[sl], compress)
        write_idx(paths[f"{split}_labels"], labels[sl], compress)
    np.testing.assert_array_equal(read_idx(paths["train_images"]), images[:15])
    d = load_dataset("idx", **paths)
    assert d.input_shape == (1, 6, 5) and d.x_train.shape == (15, 1, 6, 5)
    np.testing.assert_allclose(d.x_test.numpy()[:, 0], images[15:] / 255.0, rtol=1e-6)
    assert d.y_train.tolist() == labels[:15].tolist()


def test_idx_rejects_broken_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        read_idx(bad)
    short = tmp_path / "short"
    write_idx(short, np.zeros((4, 3), np.uint8))
    short.write_bytes(short.read_bytes()[:-2])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(short)
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")
    with pytest.raises(ValueError, match="needs the paths"):
        load_dataset("idx", train_images=bad)


def test_npz_layouts(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(40, 3, 4, 4), dtype=np.uint8)
    y = np.repeat(np.arange(4), 10)
    np.savez(tmp_path / "full.npz", x=x, y=y)
    d = load_dataset("npz", path=tmp_path / "full.npz")
    assert d.input_shape == (3, 4, 4) and len(d.y_train) == 30 and len(d.y_test) == 10
    np.savez(tmp_path / "split.npz", x_train=x[:30, 0], y_train=y[:30], x_test=x[30:, 0], y_test=y[30:])
    s = load_dataset("npz", path=tmp_path / "split.npz")
    assert s.input_shape == (1, 4, 4) and s.x_train.max() <= 1.0
    np.savez(tmp_path / "odd.npz", a=x)
    with pytest.raises(ValueError, match="needs arrays"):
        load_dataset("npz", path=tmp_path / "odd.npz")
    with pytest.raises(ValueError, match="unknown dataset"):
        load_dataset("cifar")


def test_dataset_specs(tmp_path):
    gm = load_dataset_spec("gaussian_mixture:separation=1.5,d=20,classes=3")
    assert gm.input_shape == (20,) and gm.n_classes == 3 and gm.config["separation"] == 1.5
    assert torch.equal(gm.x_train, load_dataset("gaussian_mixture", separation=1.5, d=20, classes=3).x_train)
    assert load_dataset_spec("digits").x_train.shape == (1347, 64)
    rng = np.random.default_rng(1)
    for stem, arr in (
        ("train-images-idx3-ubyte", rng.integers(0, 256, (12, 4, 4), dtype=np.uint8)),
        ("train-labels-idx1-ubyte", rng.integers(0, 2, 12).astype(np.uint8)),
        ("t10k-images-idx3-ubyte", rng.integers(0, 256, (6, 4, 4), dtype=np.uint8)),
        ("t10k-labels-idx1-ubyte", rng.integers(0, 2, 6).astype(np.uint8)),
    ):
        write_idx(tmp_path / (stem + (".gz" if "labels" in stem else "")), arr, compress="labels" in stem)
    assert find_idx_files(tmp_path)["train_labels"].name.endswith(".gz")
    d = load_dataset_spec(f"idx:{tmp_path}")
    assert d.x_train.shape == (12, 1, 4, 4) and d.x_test.shape == (6, 1, 4, 4)
    np.savez(tmp_path / "d.npz", x=rng.normal(size=(40, 3)), y=rng.integers(0, 2, 40))
    assert load_dataset_spec(f"npz:{tmp_path / 'd.npz'}").n_features == 3


@pytest.mark.parametrize(
    "spec,error,match",
    [
        ("gaussian_mixture:sep=1", ValueError, "unknown keyword"),
        ("gaussian_mixture:separation", ValueError, "key=value"),
        ("nosuch", ValueError, "unknown dataset"),
        ("idx:", ValueError, "needs the directory"),
        ("idx:/no/such/dir", FileNotFoundError, "no such directory"),
        ("npz:", ValueError, "needs the file"),
        ("", ValueError, "non-empty"),
        ("gaussian_mixture:separation=-1", ValueError, "separation"),
    ],
)
def test_bad_dataset_specs(spec, error, match):
    with pytest.raises(error, match=match):
        load_dataset_spec(spec)


def test_idx_directory_missing_a_file(tmp_path):
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 3, 3), np.uint8))
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        find_idx_files(tmp_path)


def test_specs_are_checked_without_loading(monkeypatch):
    import lmctheory.nn._data as data

    def refuse(**_):
        raise AssertionError("parse_dataset_spec must not load data")

    monkeypatch.setitem(data._LOADERS, "mnist1d", refuse)
    assert parse_dataset_spec("mnist1d") == ("mnist1d", {})
    assert parse_dataset_spec("gaussian_mixture:separation=1.5,d=20") == (
        "gaussian_mixture",
        {"separation": 1.5, "d": 20},
    )
    with pytest.raises(FileNotFoundError, match="no such file"):
        parse_dataset_spec("npz:/no/such/file.npz")


# ------------------------------------------------ cases of the adversarial review of acd35e6


def test_float_labels_are_refused_not_truncated(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 14: Float labels silently truncated."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    rng = np.random.default_rng(0)
    one_line_error(npz_train(tmp, "f.npz", x=rng.random((200, 4)), y=rng.random(200) * 3), 2, "integer")


def test_npz_with_a_negative_label_is_refused(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 30: Npz with a negative label."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    rng = np.random.default_rng(0)
    one_line_error(
        npz_train(tmp, "n.npz", x=rng.random((50, 4)), y=np.r_[-1, np.zeros(49, int)]), 2, "labels"
    )


def test_npz_with_a_label_of_1e9_is_refused(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 31: Npz with label 1e9."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    rng = np.random.default_rng(0)
    one_line_error(
        npz_train(tmp, "h.npz", x=rng.random((50, 4)), y=np.r_[10**9, np.zeros(49, int)]), 2, "labels"
    )


def test_idx_with_a_truncated_header_is_one_line(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 35: IDX with a truncated header."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    root = idx_dir(tmp)
    (root / "train-images-idx3-ubyte").write_bytes(bytes([0, 0, 8, 0xFF]) + b"0123456789")
    one_line_error(idx_train(root, tmp), 2, "truncated")


def test_a_gzip_bomb_is_refused_from_its_header(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 36: A gzip bomb: the header is checked before anything is decompressed."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    root = idx_dir(tmp)
    (root / "train-images-idx3-ubyte").unlink()
    with gzip.open(root / "train-images-idx3-ubyte.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 100000, 100000) + bytes(1 << 20))
    one_line_error(idx_train(root, tmp), 2, "limit")


def test_idx_with_int32_labels_is_read(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 48: IDX with int32 labels."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    assert idx_train(idx_dir(tmp, np.int32), tmp)[0] == 0


def test_npz_with_different_feature_counts_is_refused(tmp_path, monkeypatch):
    """Adversarial review of acd35e6, row 58: Npz with different feature counts in train and test."""
    monkeypatch.chdir(tmp_path)
    tmp = tmp_path
    rng = np.random.default_rng(0)
    one_line_error(
        npz_train(
            tmp,
            "m.npz",
            x_train=rng.random((50, 4)),
            y_train=np.zeros(50, int),
            x_test=rng.random((50, 5)),
            y_test=np.zeros(50, int),
        ),
        2,
        "test inputs",
    )


# ------------------------------------------------ regressions found in the review of acd35e6


@pytest.mark.parametrize("spec", ["digits:sead=1", "mnist1d:sed=3", "teacher:hiden=4"])
def test_dataset_loaders_reject_unknown_keywords(spec):
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory.nn import load_dataset, load_dataset_spec, parse_dataset_spec

    name, _, rest = spec.partition(":")
    key, _, value = rest.partition("=")
    with pytest.raises(ValueError, match=f"unknown keyword.*'{key}'"):
        load_dataset(name, **{key: int(value)})  # the Python API, not only the spec parser
    with pytest.raises(ValueError, match="unknown keyword"):
        parse_dataset_spec(spec)
    with pytest.raises(ValueError, match="unknown keyword"):
        load_dataset_spec(spec)


@pytest.mark.parametrize(
    "spec,match",
    [
        ("teacher:hidden=-1", "hidden"),
        ("teacher:classes=0", "classes"),
        ("teacher:seed=-1", "seed"),
        ("teacher:n_train=1.5", "n_train"),
        ("teacher:n_train=1000000000", "floats"),
        ("digits:seed=abc", "seed"),
        ("gaussian_mixture:d=1e400", "d must"),
        ("teacher:classes=1000000", "floats"),
    ],
)
def test_dataset_keyword_values_are_checked(spec, match):
    """Review of acd35e6: fails on that commit's behaviour."""
    from lmctheory.nn import load_dataset_spec

    with pytest.raises((ValueError, TypeError), match=match):
        load_dataset_spec(spec)
