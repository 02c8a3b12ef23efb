"""Datasets that work offline: bundled, generated, synthetic, or files the user supplies.

``load_dataset(name, ...)`` returns a :class:`Dataset` of float32 inputs and
int64 labels (train and test splits), with ``input_shape`` metadata
(``(C, H, W)`` for images, ``(D,)`` for vectors) so convolutional models can
use image data. Nothing is downloaded:

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1797 images),
  standardised with train-split statistics, fixed stratified 75/25 split;
* ``"mnist1d"``: MNIST-1D generated locally by ``mnist1d.data.make_dataset``
  (40-dim, 10 classes, 4000/1000);
* ``"teacher"``: inputs N(0, I_d), labels the argmax of a random teacher MLP's
  logits plus Gaussian noise (``noise``) — or, with ``task="regression"``, its
  scalar output plus noise;
* ``"gaussian_mixture"``: k classes with means on a sphere of radius
  ``separation`` in R^d and identity covariance (smaller separation = harder);
* ``"idx"``: MNIST-format IDX files (gzip or not) given by path;
* ``"npz"``: a .npz with ``x_train, y_train, x_test, y_test`` or ``x, y``
  (split 75/25 with ``seed``); images as (N, H, W) or (N, C, H, W).
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..utils.optional import require
from ..utils.validation import check_positive_int, check_positive_real

__all__ = [
    "Dataset",
    "DATASETS",
    "load_dataset",
    "load_dataset_spec",
    "parse_dataset_spec",
    "find_idx_files",
    "read_idx",
]

DATASETS = ("digits", "mnist1d", "teacher", "gaussian_mixture", "idx", "npz")


@dataclass
class Dataset:
    """A classification (or regression) data set as tensors, with what reloads it.

    ``n_features`` is the flattened input size, ``split("train" | "test")`` the pair of tensors and
    ``describe()`` a plain-data summary; ``spec`` reloads it with :func:`load_dataset_spec`.

    Parameters
    ----------
    x_train, y_train, x_test, y_test : torch.Tensor
        Inputs (n, ...) and labels (int64 classes, or float targets for regression).
    n_classes : int
        Classes (0 for regression).
    input_shape : tuple
        Shape of one input, e.g. (1, 8, 8) or (10,).
    name : str
        Loader name.
    config : dict
        The loader's keywords.
    spec : str, optional
        One-string spec.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> data = load_dataset("digits")
    >>> data.input_shape, data.n_features, data.n_classes, tuple(data.x_train.shape)
    ((1, 8, 8), 64, 10, (1347, 64))
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    n_classes: int
    input_shape: tuple
    name: str
    config: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor]:
        if name == "train":
            return self.x_train, self.y_train
        if name == "test":
            return self.x_test, self.y_test
        raise ValueError(f"split must be 'train' or 'test', got {name!r}")

    spec: str | None = None

    def describe(self) -> dict:
        """Plain-data summary; ``spec`` reloads it with :func:`load_dataset_spec` (recorded in checkpoints)."""
        return {
            "name": self.name,
            "spec": self.spec,
            "n_train": len(self.y_train),
            "n_test": len(self.y_test),
            "n_classes": self.n_classes,
            "input_shape": list(self.input_shape),
            **self.config,
        }


def _tensors(x_train, y_train, x_test, y_test, n_classes, shape, name, config, regression=False) -> Dataset:
    ydtype = torch.float32 if regression else torch.int64
    out = Dataset(
        torch.tensor(np.asarray(x_train), dtype=torch.float32),
        torch.tensor(np.asarray(y_train), dtype=ydtype),
        torch.tensor(np.asarray(x_test), dtype=torch.float32),
        torch.tensor(np.asarray(y_test), dtype=ydtype),
        n_classes,
        tuple(shape),
        name,
        config,
    )
    for split in ("train", "test"):
        x, y = out.split(split)
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"{name}: {split} split has {len(x)} inputs and {len(y)} labels")
        if not torch.isfinite(x).all():
            raise ValueError(f"{name}: {split} inputs contain NaN or inf")
    return out


def _standardise(x_train, x_test):
    mean, std = x_train.mean(0), x_train.std(0)
    std[std == 0] = 1.0
    return (x_train - mean) / std, (x_test - mean) / std


def _split(x, y, seed, test_fraction=0.25):
    from sklearn.model_selection import train_test_split

    stratify = y if np.issubdtype(np.asarray(y).dtype, np.integer) else None
    return train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=stratify)


#: largest synthetic data set (floats in inputs, hidden units and outputs, over all examples)
_MAX_SYNTHETIC_VALUES = 200_000_000


def _seed(seed) -> int:
    return check_positive_int(seed, "seed", minimum=0)


def _check_size(name: str, n: int, *widths: int) -> None:
    values = n * sum(widths)
    if values > _MAX_SYNTHETIC_VALUES:
        raise ValueError(
            f"{name}: {n} examples x {sum(widths)} values each = {values:.3g} floats, above the limit "
            f"{_MAX_SYNTHETIC_VALUES:.0e} (about {_MAX_SYNTHETIC_VALUES * 8 / 2**30:.0f} GiB); use fewer "
            "examples or dimensions"
        )


def _digits(seed=0):
    from sklearn.datasets import load_digits

    seed = _seed(seed)
    data = load_digits()
    x_tr, x_te, y_tr, y_te = _split(data.data.astype(np.float64), data.target, seed)
    x_tr, x_te = _standardise(x_tr, x_te)
    return _tensors(
        x_tr, y_tr, x_te, y_te, 10, (1, 8, 8), "digits", {"split_seed": seed, "standardised": True}
    )


def _mnist1d(seed=42):
    mnist1d = require("mnist1d.data", "the mnist1d dataset")

    seed = _seed(seed)
    args = mnist1d.get_dataset_args()
    args.seed = seed
    data = mnist1d.make_dataset(args)  # local generation; never mnist1d.get_dataset (it downloads)
    return _tensors(
        data["x"], data["y"], data["x_test"], data["y_test"], 10, (1, 40), "mnist1d", {"seed": seed}
    )


def _teacher(
    seed=0, d=10, n_train=2000, n_test=1000, classes=10, hidden=64, noise=0.0, task="classification"
):
    seed = _seed(seed)
    d, n_train, n_test = (
        check_positive_int(d, "d"),
        check_positive_int(n_train, "n_train"),
        check_positive_int(n_test, "n_test"),
    )
    hidden, classes = check_positive_int(hidden, "hidden"), check_positive_int(classes, "classes", minimum=2)
    noise = check_positive_real(noise, "noise", allow_zero=True)
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    _check_size("teacher", n_train + n_test, d, hidden, classes)
    rng = np.random.default_rng(seed)
    w1 = rng.normal(size=(hidden, d)) / np.sqrt(d)
    w2 = rng.normal(size=(classes if task == "classification" else 1, hidden)) / np.sqrt(hidden)
    x = rng.normal(size=(n_train + n_test, d))
    out = np.maximum(x @ w1.T, 0) @ w2.T + noise * rng.normal(size=(n_train + n_test, w2.shape[0]))
    config = {"seed": seed, "d": d, "hidden": hidden, "noise": noise, "task": task}
    if task == "regression":
        y = out[:, 0]
        return _tensors(
            x[:n_train], y[:n_train], x[n_train:], y[n_train:], 0, (d,), "teacher", config, regression=True
        )
    y = out.argmax(1)
    return _tensors(x[:n_train], y[:n_train], x[n_train:], y[n_train:], classes, (d,), "teacher", config)


def _gaussian_mixture(seed=0, d=10, classes=4, separation=3.0, n_train=2000, n_test=1000):
    seed = _seed(seed)
    d, classes = check_positive_int(d, "d"), check_positive_int(classes, "classes", minimum=2)
    n_train, n_test = check_positive_int(n_train, "n_train"), check_positive_int(n_test, "n_test")
    separation = check_positive_real(separation, "separation", allow_zero=True)
    _check_size("gaussian_mixture", n_train + n_test, d)
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(classes, d))
    means *= separation / np.linalg.norm(means, axis=1, keepdims=True)
    n = n_train + n_test
    y = rng.integers(0, classes, size=n)
    x = means[y] + rng.normal(size=(n, d))
    return _tensors(
        x[:n_train],
        y[:n_train],
        x[n_train:],
        y[n_train:],
        classes,
        (d,),
        "gaussian_mixture",
        {"seed": seed, "d": d, "separation": separation},
    )


#: largest IDX payload read (bytes): a file declaring more is refused before it is decompressed
_MAX_IDX_BYTES = 4 * 2**30


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the MNIST format; ``.gz`` is decompressed): magic, dims, big-endian data.

    The header is checked before the payload is read, and a gzip stream is decompressed only up to
    the size the header declares (a gzip bomb cannot exhaust memory); the array is returned in the
    machine's byte order.

    Parameters
    ----------
    path : str or Path
        The file.

    Returns
    -------
    ndarray
        The array, of the dtype and shape the header declares.

    Raises
    ------
    ValueError
        A bad magic number or type code, a payload shorter or longer than declared, or more than
        the size limit (the message names the file).
    FileNotFoundError
        No such file.

    Examples
    --------
    >>> import pathlib, struct, tempfile
    >>> import numpy as np
    >>> from lmctheory.nn import read_idx
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 3) + bytes([7, 1, 4]))
    >>> read_idx(path).tolist()
    [7, 1, 4]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such IDX file: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    try:
        with opener(path, "rb") as fh:
            magic = fh.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0:
                raise ValueError(f"{path}: not an IDX file (bad magic number)")
            if magic[2] not in dtypes:
                raise ValueError(f"{path}: unknown IDX data type 0x{magic[2]:02x}")
            ndim = magic[3]
            header = fh.read(4 * ndim)
            if len(header) < 4 * ndim:
                raise ValueError(
                    f"{path}: truncated IDX header ({len(header)} of {4 * ndim} dimension bytes)"
                )
            shape = struct.unpack(f">{ndim}I", header)
            dtype = np.dtype(dtypes[magic[2]])
            size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if size > _MAX_IDX_BYTES:
                raise ValueError(
                    f"{path}: the header declares shape {shape} ({size / 2**30:.1f} GiB), above the "
                    f"{_MAX_IDX_BYTES / 2**30:.0f} GiB limit"
                )
            raw = fh.read(size + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"{path}: cannot read the IDX file ({exc})") from None
    if len(raw) != size:
        raise ValueError(
            f"{path}: header says shape {shape} ({size} bytes) but the file holds "
            f"{'more' if len(raw) > size else len(raw)} bytes (truncated or corrupt)"
        )
    data = np.frombuffer(raw, dtype=dtype)
    return data.astype(dtype.newbyteorder("="), copy=False).reshape(shape)


#: most classes a labelled data set may declare (labels must be 0..K-1)
_MAX_CLASSES = 100_000


def _labels(y, where: str) -> np.ndarray:
    """Class labels as int64: integer-valued, 0 <= label < 100,000; ValueError naming ``where``."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"{where}: labels must be a 1-D array, got shape {y.shape}")
    if y.dtype == object or not (np.issubdtype(y.dtype, np.number) or np.issubdtype(y.dtype, np.bool_)):
        raise ValueError(f"{where}: labels must be integers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            bad = y[~np.isfinite(y) | (y != np.round(y))][0]
            raise ValueError(
                f"{where}: labels must be integer class indices, got {bad!r} (a regression target? "
                "only classification data sets are supported)"
            )
    if y.size and (y.min() < 0 or y.max() >= _MAX_CLASSES):
        raise ValueError(
            f"{where}: labels must be class indices 0..K-1 with K <= {_MAX_CLASSES}, got values in "
            f"[{y.min()}, {y.max()}]"
        )
    return y.astype(np.int64)


def _check_features(name: str, x_tr: np.ndarray, x_te: np.ndarray) -> None:
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise ValueError(
            f"{name}: train inputs have shape {x_tr.shape[1:]} per example but test inputs {x_te.shape[1:]}"
        )


def _image_shape(x: np.ndarray) -> tuple:
    if x.ndim == 2:
        return (x.shape[1],)
    if x.ndim == 3:
        return (1, x.shape[1], x.shape[2])
    if x.ndim == 4:
        return tuple(x.shape[1:])
    raise ValueError(f"inputs must be (N, D), (N, H, W) or (N, C, H, W), got shape {x.shape}")


def _scaled(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float64) / 255.0 if x.dtype == np.uint8 else x.astype(np.float64)


def _idx(train_images=None, train_labels=None, test_images=None, test_labels=None):
    paths = {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }
    missing = [k for k, v in paths.items() if v is None]
    if missing:
        raise ValueError(f"the idx dataset needs the paths {missing}")
    x_tr, y_tr = _scaled(read_idx(train_images)), _labels(read_idx(train_labels), str(train_labels))
    x_te, y_te = _scaled(read_idx(test_images)), _labels(read_idx(test_labels), str(test_labels))
    _check_features("idx", x_tr, x_te)
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    return _tensors(
        x_tr.reshape(len(x_tr), *_image_shape(x_tr)),
        y_tr,
        x_te.reshape(len(x_te), *_image_shape(x_te)),
        y_te,
        n_classes,
        _image_shape(x_tr),
        "idx",
        {k: str(v) for k, v in paths.items()},
    )


def _npz(path=None, seed=0):
    seed = _seed(seed)
    if path is None:
        raise ValueError("the npz dataset needs path=...")
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with np.load(file, allow_pickle=False) as data:
            keys = set(data.files)
            if {"x_train", "y_train", "x_test", "y_test"} <= keys:
                x_tr, y_tr, x_te, y_te = (data[k] for k in ("x_train", "y_train", "x_test", "y_test"))
            elif {"x", "y"} <= keys:
                x, y = data["x"], data["y"]
                if len(x) != len(y):
                    raise ValueError(f"{path}: x has {len(x)} examples but y has {len(y)} labels")
                x_tr, x_te, y_tr, y_te = _split(x, _labels(y, f"{path} (labels y)"), seed)
            else:
                raise ValueError(
                    f"{path}: needs arrays x_train, y_train, x_test, y_test (or x, y); has {sorted(keys)}"
                )
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt or non-npz files raise many types
        raise ValueError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
    for name, array in (("x_train", x_tr), ("x_test", x_te)):
        if array.dtype == object or not np.issubdtype(array.dtype, np.number) or np.iscomplexobj(array):
            raise ValueError(f"{path}: {name} must hold real numbers, got dtype {array.dtype}")
        if array.ndim < 2:
            raise ValueError(f"{path}: {name} must have one row per example, got shape {array.shape}")
    x_tr, x_te = _scaled(x_tr), _scaled(x_te)
    _check_features(f"npz {path}", x_tr, x_te)
    y_tr, y_te = _labels(y_tr, f"{path} (training labels)"), _labels(y_te, f"{path} (test labels)")
    n_classes = int(max(y_tr.max(), y_te.max())) + 1
    shape = _image_shape(x_tr)
    return _tensors(
        x_tr.reshape(len(x_tr), *shape),
        y_tr,
        x_te.reshape(len(x_te), *shape),
        y_te,
        n_classes,
        shape,
        "npz",
        {"path": str(path), "split_seed": seed},
    )


_LOADERS = {
    "digits": _digits,
    "mnist1d": _mnist1d,
    "teacher": _teacher,
    "gaussian_mixture": _gaussian_mixture,
    "idx": _idx,
    "npz": _npz,
}


def _keywords(name: str) -> list[str]:
    import inspect

    return list(inspect.signature(_LOADERS[name]).parameters)


def load_dataset(name: str, **kwargs) -> Dataset:
    """Load a dataset by name (see the module docstring for each one's keywords).

    Parameters
    ----------
    name : {"digits", "mnist1d", "teacher", "gaussian_mixture", "idx", "npz"}
        The loader.
    **kwargs
        Its keywords (e.g. ``seed``, ``n_train``).

    Returns
    -------
    Dataset
        The data.

    Raises
    ------
    ValueError
        An unknown name or keyword (a misspelt ``seed`` must not silently give another data set),
        or invalid keyword values, naming them.
    ImportError
        ``mnist1d`` without the ``lmctheory[data]`` extra.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> load_dataset("gaussian_mixture", d=20, classes=3).input_shape
    (20,)
    """
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    unknown = sorted(set(kwargs) - set(_keywords(name)))
    if unknown:
        raise ValueError(f"unknown keyword(s) {unknown} for the {name} dataset; known: {_keywords(name)}")
    data = _LOADERS[name](**kwargs)
    data.spec = _spec_of(name, kwargs)
    return data


def _spec_of(name: str, kwargs: dict) -> str | None:
    """The one-string spec that reloads ``load_dataset(name, **kwargs)`` (None if none can)."""
    if name == "idx":
        parents = {Path(v).parent for v in kwargs.values()}
        return f"idx:{parents.pop()}" if len(parents) == 1 else None
    if name == "npz":
        return f"npz:{kwargs['path']}" if kwargs.get("seed", 0) == 0 and "path" in kwargs else None
    return name + (":" + ",".join(f"{k}={v}" for k, v in sorted(kwargs.items())) if kwargs else "")


_IDX_STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def find_idx_files(directory) -> dict[str, Path]:
    """The four MNIST-format files in ``directory`` (standard names, gzipped or not).

    Parameters
    ----------
    directory : str or Path
        Holds ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte`` (each optionally ``.gz``).

    Returns
    -------
    dict of str to Path
        Keys ``train_images``, ``train_labels``, ``test_images``, ``test_labels``.

    Raises
    ------
    FileNotFoundError
        The directory or one of the files is missing.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from lmctheory.nn import find_idx_files
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
    ...              "t10k-labels-idx1-ubyte.gz"):
    ...     _ = (root / stem).write_bytes(b"")
    >>> sorted(find_idx_files(root))
    ['test_images', 'test_labels', 'train_images', 'train_labels']
    """
    root = Path(directory)
    if not root.is_dir():
        raise FileNotFoundError(f"no such directory: {directory}")
    found = {}
    for key, stem in _IDX_STEMS.items():
        for name in (stem, stem + ".gz"):
            if (root / name).is_file():
                found[key] = root / name
                break
        else:
            raise FileNotFoundError(f"{root}: no {stem}[.gz]")
    return found


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_dataset_spec(spec: str) -> tuple[str, dict]:
    """``(loader name, keywords)`` of a one-string dataset spec, checked without loading anything.

    * ``"digits"``, ``"mnist1d"``, ``"teacher"``, ``"gaussian_mixture"``: the built-in loaders;
    * ``"NAME:key=value,key=value"``: the same with keywords, e.g.
      ``"gaussian_mixture:separation=1.5,d=20"`` or ``"teacher:noise=0.5"`` (unknown keywords rejected);
    * ``"idx:DIR"``: the four MNIST IDX files in ``DIR`` (:func:`find_idx_files`);
    * ``"npz:FILE"``: a .npz file (see the module docstring).

    Parameters
    ----------
    spec : str
        The spec.

    Returns
    -------
    tuple of (str, dict)
        Loader name and keywords.

    Raises
    ------
    ValueError
        An unknown loader or keyword, or a malformed ``key=value``.
    FileNotFoundError
        ``idx:`` or ``npz:`` naming a path that does not exist.

    Examples
    --------
    >>> from lmctheory.nn import parse_dataset_spec
    >>> parse_dataset_spec("gaussian_mixture:separation=1.5,d=20")
    ('gaussian_mixture', {'separation': 1.5, 'd': 20})
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"data spec must be a non-empty string, got {spec!r}")
    name, _, rest = spec.partition(":")
    if name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    if name == "idx":
        if not rest:
            raise ValueError("data spec 'idx:DIR' needs the directory holding the four MNIST IDX files")
        return name, find_idx_files(rest)
    if name == "npz":
        if not rest:
            raise ValueError("data spec 'npz:FILE' needs the file")
        if not Path(rest).is_file():
            raise FileNotFoundError(f"no such file: {rest}")
        return name, {"path": rest}
    kwargs = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise ValueError(f"data spec {spec!r}: expected key=value after ':', got {item!r}")
        kwargs[key.strip()] = _parse_value(value.strip())
    unknown = sorted(set(kwargs) - set(_keywords(name)))
    if unknown:
        raise ValueError(
            f"data spec {spec!r}: unknown keyword(s) {unknown} for {name}; known: {_keywords(name)}"
        )
    return name, kwargs


def load_dataset_spec(spec: str) -> Dataset:
    """Load a dataset from a one-string spec (what configs and the CLI store; see :func:`parse_dataset_spec`).

    Parameters
    ----------
    spec : str
        E.g. ``"digits"`` or ``"teacher:noise=0.5"``.

    Returns
    -------
    Dataset
        The data; its ``spec`` reloads it.

    Raises
    ------
    ValueError, FileNotFoundError
        As :func:`parse_dataset_spec` and :func:`load_dataset`.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset_spec
    >>> data = load_dataset_spec("gaussian_mixture:n_train=200,n_test=100")
    >>> len(data.y_train), load_dataset_spec(data.spec).spec == data.spec
    (200, True)
    """
    name, kwargs = parse_dataset_spec(spec)
    return load_dataset(name, **kwargs)
