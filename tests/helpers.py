"""Helpers shared by the tests of the command line's handling of bad input: one-line errors, values read from
the human output, data files written for a case."""

import gzip
import json
import os
import struct
from pathlib import Path

import numpy as np

from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]


def one_line_error(result, code, *words):
    got, out, err = result
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert got == code, (got, err)
    assert len(lines) == 1 and "Traceback" not in err and out == "", err
    for word in words:
        assert word in lines[0], (word, lines[0])


def value_line(result, prefix):
    code, out, _ = result
    assert code == 0, result
    line = next(line for line in out.splitlines() if line.startswith(prefix))
    return float(line.split("=")[1].split()[0])


def np_save(path, array):
    np.save(path, np.asarray(array, dtype=float))
    return path


def npz_train(tmp, name, **arrays):
    np.savez(tmp / name, **arrays)
    return run_cli(
        "train", "--data", "npz", "--data-path", tmp / name, "--epochs", "1", "--out-dir", tmp / "t"
    )


def depth_smoke(tmp, *options):
    code, out, _ = run_cli(
        "validate", "--smoke", "--only", "depth", "--out", tmp, "--json", "--quiet", *options
    )
    assert code == 0
    return json.loads(out)["rows"]


def checkpoint_pair(tmp, data="digits", widths="64,16,10"):
    """Two independently trained checkpoints (one epoch) written by ``lmctheory train`` into ``tmp/ck``."""
    code, _, err = run_cli(
        "train",
        "--data",
        data,
        "--widths",
        widths,
        "--epochs",
        "1",
        "--pair",
        "independent",
        "--out-dir",
        tmp / "ck",
    )
    assert code == 0, err
    return tmp / "ck" / "model_a.pt", tmp / "ck" / "model_b.pt"


class EvilPickle:
    def __reduce__(self):
        return (os.system, ("touch PWNED_by_pickle",))


def idx_dir(tmp, labels_dtype=np.uint8):
    root = tmp / "mnist"
    root.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 20)):
        write_idx(root / f"{stem}-images-idx3-ubyte", rng.integers(0, 255, (n, 4, 4)).astype(np.uint8))
        write_idx(root / f"{stem}-labels-idx1-ubyte", (np.arange(n) % 3).astype(labels_dtype))
    return root


def idx_train(root, tmp):
    return run_cli(
        "train",
        "--data",
        "idx",
        "--data-path",
        root,
        "--epochs",
        "1",
        "--widths",
        "16,8,3",
        "--out-dir",
        tmp / "t",
    )


def write_idx(path, array, compress=False):
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    arr = np.asarray(array)
    if arr.dtype == np.int32:
        arr = arr.astype(">i4")
    header = bytes([0, 0, codes[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.tobytes()
    (gzip.open if compress else open)(path, "wb").write(data)
