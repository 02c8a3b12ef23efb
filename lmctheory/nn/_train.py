"""Training: single runs, pairs (Altıntaş and Ferbach protocols), vectorised ensembles, checkpoints.

Randomness is split in two explicit seeds: ``init_seed`` (weights) and
``data_seed`` (order of the mini-batches). Two runs with the same init seed and
different data seeds are the "same initialisation, different SGD noise" pair
of Altıntaş et al.; different seeds for both give Ferbach et al.'s independent
pair. A run whose loss becomes NaN/inf stops and is recorded as diverged
(never raised mid-sweep).

Learning rate at step s (0-based) of S: ``lr * warmup(s) * schedule(s)`` with
``warmup(s) = min(1, (s + 1) / warmup_steps)`` and ``schedule`` constant or
cosine ``(1 + cos(pi s / S)) / 2``.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch.func import functional_call, grad_and_value, stack_module_state

from .. import __version__
from ..runs import write_json
from ._losses import loss_kind, mean_loss
from ._models import CNN, LCN, MLP, AttentionNet, LogisticRegression, MeanFieldTwoLayer

__all__ = [
    "TrainConfig",
    "TrainResult",
    "resolve_device",
    "train",
    "train_pair",
    "train_ensemble",
    "train_online",
    "build_model",
    "save_checkpoint",
    "load_checkpoint",
]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """The torch device for a name; ``"auto"``: CUDA when available, else CPU.

    Parameters
    ----------
    device : str or torch.device, default "auto"
        ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...

    Returns
    -------
    torch.device
        The device.

    Raises
    ------
    ValueError
        CUDA requested but not available.
    RuntimeError
        A name torch does not know.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import resolve_device
    >>> resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    True
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' requested but CUDA is not available; use device='auto' or 'cpu'")
    return dev


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (what :func:`train` and the experiments record).

    The learning rate follows ``schedule`` after ``warmup_steps`` of linear warm-up
    (``lr_at(step, total)``); ``total_steps(n_train)`` is the run's length.

    Parameters
    ----------
    optimizer : {"sgd", "adam"}, default "sgd"
        The optimizer (SGD with ``momentum``, or Adam with ``betas`` and ``adam_eps``).
    lr : float, default 0.05
        Peak learning rate.
    momentum, weight_decay : float
        SGD momentum and weight decay (both optimizers).
    batch_size : int, default 128
        Mini-batch size.
    epochs, steps : int or None
        Exactly one of them: the length of the run.
    warmup_steps : int, default 0
        Linear warm-up.
    schedule : {"constant", "cosine"}
        Schedule after warm-up.
    betas, adam_eps
        Adam's parameters.
    init_seed, data_seed : int
        Seeds of the initialisation and of the mini-batch order.
    device : str, default "auto"
        Where to train.
    dtype : {"float32", "float64"}
        Parameter dtype.

    Raises
    ------
    ValueError
        An unknown optimizer, schedule or dtype, a non-positive lr or batch size, negative
        warm-up or weight decay, or not exactly one of epochs and steps.

    Examples
    --------
    >>> from lmctheory.nn import TrainConfig
    >>> config = TrainConfig(lr=0.1, steps=100, warmup_steps=10, epochs=None)
    >>> config.lr_at(4, 100), config.lr_at(50, 100)      # step 4 of 10 warm-up steps: 5/10 of lr
    (0.05, 0.1)
    """

    optimizer: str = "sgd"
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    batch_size: int = 128
    epochs: int | None = 10
    steps: int | None = None
    warmup_steps: int = 0
    schedule: str = "constant"
    betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    init_seed: int = 0
    data_seed: int = 0
    device: str = "auto"
    dtype: str = "float32"

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be 'constant' or 'cosine', got {self.schedule!r}")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite number > 0, got {self.lr}")
        if self.batch_size < 1 or self.warmup_steps < 0 or self.weight_decay < 0:
            raise ValueError("batch_size must be >= 1, warmup_steps and weight_decay >= 0")
        if (self.epochs is None) == (self.steps is None):
            raise ValueError("give exactly one of epochs and steps")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64', got {self.dtype!r}")

    def total_steps(self, n_train: int) -> int:
        if self.steps is not None:
            return int(self.steps)
        return int(self.epochs) * math.ceil(n_train / self.batch_size)

    def lr_at(self, step: int, total: int) -> float:
        warm = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps else 1.0
        sched = 0.5 * (1 + math.cos(math.pi * step / total)) if self.schedule == "cosine" else 1.0
        return self.lr * warm * sched

    def to_dict(self) -> dict:
        d = asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass
class TrainResult:
    """Outcome of a training run: the model, its config, per-step losses and whether it diverged.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (frozen at its last finite parameters if it diverged).
    config : TrainConfig
        The run's hyper-parameters.
    losses : list of float
        Mini-batch loss per step.
    diverged : bool
        Whether the loss became non-finite.
    diverged_at : int or None
        The step where it did.
    steps : int
        Steps taken.
    seconds : float
        Wall time.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import TrainConfig
    >>> data = load_dataset("gaussian_mixture", n_train=200, n_test=100)
    >>> make = lambda: MLP([10, 16, 4])
    >>> config = TrainConfig(epochs=2, lr=0.05)
    >>> from lmctheory.nn import train
    >>> result = train(make, data, config)
    >>> result.steps, result.diverged, len(result.losses)
    (4, False, 4)
    """

    model: torch.nn.Module
    config: TrainConfig
    losses: list[float] = field(default_factory=list)
    diverged: bool = False
    diverged_at: int | None = None
    steps: int = 0
    seconds: float = 0.0

    def summary(self) -> dict:
        return {
            "diverged": self.diverged,
            "diverged_at": self.diverged_at,
            "steps": self.steps,
            "final_loss": self.losses[-1] if self.losses else None,
            "seconds": self.seconds,
        }


def _loss_fn(y):
    """The training loss of a batch: the mean of :func:`lmctheory.nn.per_example_loss`."""
    kind = loss_kind(y, "auto")
    return lambda out, target: mean_loss(kind, out, target)


def _batch_order(n: int, batch_size: int, total: int, data_seed: int):
    """Indices of each step's mini-batch: a fresh permutation per epoch from ``data_seed``."""
    g = torch.Generator().manual_seed(int(data_seed))
    perm, pos = torch.randperm(n, generator=g), 0
    for _ in range(total):
        if pos + batch_size > n and pos > 0:
            perm, pos = torch.randperm(n, generator=g), 0
        yield perm[pos : pos + batch_size]
        pos += batch_size


def _init(make_model, config: TrainConfig, device) -> torch.nn.Module:
    """``make_model()`` under ``torch.manual_seed(init_seed)`` in a fork of torch's CPU generator: the
    caller's global random state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(config.init_seed))
        model = make_model()
    return model.to(device=device, dtype=getattr(torch, config.dtype))


def train(make_model, dataset, config: TrainConfig) -> TrainResult:
    """Train ``make_model()`` (built under ``torch.manual_seed(config.init_seed)``, in a fork of torch's
    generator that leaves the global random state untouched) on ``dataset``.

    Mini-batches follow ``config.data_seed``; the loss is cross-entropy for class labels and squared
    error for float targets. A run whose loss becomes non-finite stops and is reported as diverged.

    Parameters
    ----------
    make_model : callable
        Returns a fresh ``torch.nn.Module``.
    dataset : Dataset
        Training data (``x_train``, ``y_train``).
    config : TrainConfig
        Hyper-parameters.

    Returns
    -------
    TrainResult
        The model and the run's record.

    Raises
    ------
    ValueError
        CUDA requested but unavailable, or data the model cannot take.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import TrainConfig
    >>> data = load_dataset("gaussian_mixture", n_train=200, n_test=100)
    >>> make = lambda: MLP([10, 16, 4])
    >>> config = TrainConfig(epochs=2, lr=0.05)
    >>> from lmctheory.nn import train
    >>> result = train(make, data, config)
    >>> result.losses[-1] < result.losses[0]
    True
    """
    device = resolve_device(config.device)
    model = _init(make_model, config, device)
    dtype = getattr(torch, config.dtype)
    x = dataset.x_train.to(device=device, dtype=dtype)
    y = dataset.y_train.to(device)
    y = y.to(dtype) if y.is_floating_point() else y
    loss_fn = _loss_fn(y)
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(
            model.parameters(), lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
        )
    else:
        opt = torch.optim.Adam(
            model.parameters(),
            lr=config.lr,
            betas=config.betas,
            eps=config.adam_eps,
            weight_decay=config.weight_decay,
        )
    total = config.total_steps(len(x))
    result = TrainResult(model, config)
    start = time.perf_counter()
    model.train()
    for step, idx in enumerate(_batch_order(len(x), config.batch_size, total, config.data_seed)):
        for group in opt.param_groups:
            group["lr"] = config.lr_at(step, total)
        idx = idx.to(device)
        opt.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        value = loss.item()
        if not math.isfinite(value):
            result.diverged, result.diverged_at = True, step
            break
        loss.backward()
        opt.step()
        result.losses.append(value)
        result.steps = step + 1
    model.eval()
    result.seconds = time.perf_counter() - start
    return result


def train_pair(
    make_model, dataset, config: TrainConfig, *, same_init: bool = True, seeds: tuple[int, int] = (0, 1)
) -> tuple[TrainResult, TrainResult]:
    """Two runs: same init and data orders ``seeds`` (Altıntaş et al.), or independent init and data
    (``same_init=False``: init seeds and data seeds both ``seeds``; Ferbach et al.).

    Parameters
    ----------
    make_model : callable
        Returns a fresh model.
    dataset : Dataset
        Training data.
    config : TrainConfig
        Hyper-parameters (its seeds are replaced).
    same_init : bool, default True
        Share the initialisation (``config.init_seed``).
    seeds : tuple of (int, int), default (0, 1)
        Data seeds (and init seeds when not shared).

    Returns
    -------
    tuple of (TrainResult, TrainResult)
        The two runs.

    Raises
    ------
    ValueError
        As :func:`train`.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import TrainConfig
    >>> data = load_dataset("gaussian_mixture", n_train=200, n_test=100)
    >>> make = lambda: MLP([10, 16, 4])
    >>> config = TrainConfig(epochs=2, lr=0.05)
    >>> from lmctheory.nn import train_pair
    >>> a, b = train_pair(make, data, config)
    >>> (a.config.init_seed, a.config.data_seed), (b.config.init_seed, b.config.data_seed)
    ((0, 0), (0, 1))
    """
    runs = []
    for s in seeds:
        cfg = replace(config, data_seed=s) if same_init else replace(config, data_seed=s, init_seed=s)
        runs.append(train(make_model, dataset, cfg))
    return runs[0], runs[1]


# ------------------------------------------------------------ vectorised ensembles


def train_ensemble(make_model, dataset, config: TrainConfig, *, init_seeds, data_seeds) -> list[TrainResult]:
    """K models trained at once (``torch.func``: stacked parameters, ``vmap`` of ``grad``).

    Model k is initialised under ``init_seeds[k]`` and sees the mini-batches of
    ``data_seeds[k]``; the result equals K sequential :func:`train` runs with
    those seeds within floating-point tolerance (same update rules as
    ``torch.optim.SGD``/``Adam``). A model that diverges is frozen at its last
    finite parameters and reported as diverged.

    Parameters
    ----------
    make_model : callable
        Returns a fresh model.
    dataset : Dataset
        Training data.
    config : TrainConfig
        Hyper-parameters.
    init_seeds, data_seeds : sequence of int
        One per model, of equal length.

    Returns
    -------
    list of TrainResult
        One per model.

    Raises
    ------
    ValueError
        Seed lists of different lengths or empty, or as :func:`train`.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import TrainConfig
    >>> data = load_dataset("gaussian_mixture", n_train=200, n_test=100)
    >>> make = lambda: MLP([10, 16, 4])
    >>> config = TrainConfig(epochs=2, lr=0.05)
    >>> import torch
    >>> from lmctheory.nn import train, train_ensemble
    >>> first, second = train_ensemble(make, data, config, init_seeds=[0, 1], data_seeds=[0, 1])
    >>> alone = train(make, data, config)     # init seed 0, data seed 0
    >>> all(torch.allclose(p, q, atol=1e-5) for p, q in zip(first.model.parameters(), alone.model.parameters()))
    True
    """
    init_seeds, data_seeds = list(init_seeds), list(data_seeds)
    if len(init_seeds) != len(data_seeds) or not init_seeds:
        raise ValueError("init_seeds and data_seeds must be non-empty and of equal length")
    device = resolve_device(config.device)
    dtype = getattr(torch, config.dtype)
    models = [_init(make_model, replace(config, init_seed=s), device) for s in init_seeds]
    params, buffers = stack_module_state(models)
    if buffers:
        raise NotImplementedError("vectorised ensembles of models with buffers are not supported")
    base = copy.deepcopy(models[0]).to("meta")
    x = dataset.x_train.to(device=device, dtype=dtype)
    y = dataset.y_train.to(device)
    y = y.to(dtype) if y.is_floating_point() else y
    loss_fn = _loss_fn(y)

    def loss_of(p, xb, yb):
        return loss_fn(functional_call(base, p, (xb,)), yb)

    step_of = torch.vmap(grad_and_value(loss_of))  # one forward + backward gives both
    total = config.total_steps(len(x))
    orders = [_batch_order(len(x), config.batch_size, total, s) for s in data_seeds]
    state = {k: torch.zeros_like(v) for k, v in params.items()}
    state2 = {k: torch.zeros_like(v) for k, v in params.items()}
    k_models = len(models)
    alive = torch.ones(k_models, dtype=torch.bool, device=device)
    results = [
        TrainResult(m, replace(config, init_seed=i, data_seed=d))
        for m, i, d in zip(models, init_seeds, data_seeds, strict=True)
    ]
    loss_log = []  # per step, the K losses before the update (read back once, at the end)
    start = time.perf_counter()
    for step in range(total):
        idx = torch.stack([next(o) for o in orders]).to(device)  # (K, B)
        g, losses = step_of(params, x[idx], y[idx])
        finite = torch.isfinite(losses)
        if not bool(finite.all()):
            for k in torch.nonzero(alive & ~finite).flatten().tolist():
                results[k].diverged, results[k].diverged_at = True, step
            alive &= finite
            if not alive.any():
                break
        loss_log.append(losses)
        lr = config.lr_at(step, total)
        with torch.no_grad():
            for name, p in params.items():
                d = g[name] + config.weight_decay * p if config.weight_decay else g[name]
                if config.optimizer == "sgd":
                    buf = state[name]
                    if step == 0:
                        buf.copy_(d)
                    else:
                        buf.mul_(config.momentum).add_(d)
                    update = lr * buf
                else:
                    b1, b2 = config.betas
                    state[name].mul_(b1).add_(d, alpha=1 - b1)
                    state2[name].mul_(b2).addcmul_(d, d, value=1 - b2)
                    bc1, bc2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)
                    update = (
                        (lr / bc1) * state[name] / (state2[name].sqrt() / math.sqrt(bc2) + config.adam_eps)
                    )
                # frozen members keep their last finite parameters (where, not a 0/1 mask: 0 * nan is nan)
                p.sub_(torch.where(alive.view(-1, *([1] * (p.ndim - 1))), update, 0))
    log = torch.stack(loss_log).cpu() if loss_log else torch.empty(0, k_models)
    seconds = time.perf_counter() - start
    for k, res in enumerate(results):
        res.steps = res.diverged_at if res.diverged else len(log)
        res.losses = log[: res.steps, k].tolist()
        res.model.load_state_dict({name: p[k].detach().clone() for name, p in params.items()})
        res.model.eval()
        res.seconds = seconds / k_models
    return results


# ------------------------------------------------------------------ online SGD


def train_online(
    model: MeanFieldTwoLayer,
    teacher,
    *,
    steps: int,
    lr: float,
    batch_size: int = 1,
    seed: int = 0,
    input_dim: int | None = None,
    device: str = "auto",
) -> TrainResult:
    r"""Online SGD for a mean-field two-layer net: fresh samples :math:`x \sim N(0, I)` every step.

    ``teacher(x) -> y`` gives the regression targets. The step is scaled by the
    width N (mean-field parameterisation: each neuron's gradient is O(1/N), so
    ``lr * N`` keeps neurons moving at O(lr) per step, as in Mei, Montanari &
    Nguyen 2018); the loss is squared error.

    Parameters
    ----------
    model : MeanFieldTwoLayer
        The network (trained in place and returned).
    teacher : callable
        Targets of a batch of inputs.
    steps : int
        SGD steps.
    lr : float
        Learning rate before the width scaling.
    batch_size : int, default 1
        Fresh samples per step.
    seed : int, default 0
        Seed of the samples.
    input_dim : int, optional
        Input dimension (default: the model's m0).
    device : str, default "auto"
        Where to train.

    Returns
    -------
    TrainResult
        The model and its losses.

    Raises
    ------
    ValueError
        Non-positive steps, lr or batch size, or a teacher whose output has the wrong shape.

    Examples
    --------
    >>> from lmctheory.nn import MeanFieldTwoLayer
    >>> from lmctheory.nn import train_online
    >>> result = train_online(MeanFieldTwoLayer(3, 50), lambda x: x[:, :1], steps=20, lr=0.1)
    >>> result.steps, result.diverged
    (20, False)
    """
    dev = resolve_device(device)
    model = model.to(dev)
    d = input_dim or model.m0
    g = torch.Generator(device="cpu").manual_seed(int(seed))
    dtype = next(model.parameters()).dtype
    opt = torch.optim.SGD(model.parameters(), lr=lr * model.width_)
    result = TrainResult(
        model, TrainConfig(lr=lr, steps=steps, epochs=None, batch_size=batch_size, data_seed=seed)
    )
    start = time.perf_counter()
    for step in range(int(steps)):
        x = torch.randn(batch_size, d, generator=g, dtype=dtype).to(dev)
        with torch.no_grad():
            target = teacher(x).reshape(batch_size, -1)
        opt.zero_grad()
        loss = 0.5 * ((model(x) - target) ** 2).sum(-1).mean()
        if not torch.isfinite(loss):
            result.diverged, result.diverged_at = True, step
            break
        loss.backward()
        opt.step()
        result.losses.append(loss.item())
        result.steps = step + 1
    result.seconds = time.perf_counter() - start
    return result


# ------------------------------------------------------------------ checkpoints

_MODELS = {
    "mlp": lambda c: MLP(c["widths"], c.get("activation", "relu"), c.get("bias", True), c.get("slope", 0.01)),
    "mean_field": lambda c: MeanFieldTwoLayer(
        c["m0"], c["width"], c.get("out", 1), c.get("activation", "relu")
    ),
    "logistic": lambda c: LogisticRegression(c["in_features"], c["classes"]),
    "cnn": lambda c: CNN(
        c["input_shape"], c["channels"], c["classes"], c["kernel_size"], c["activation"], c["slope"]
    ),
    "lcn": lambda c: LCN(
        c["input_shape"], c["channels"], c["classes"], c["kernel_size"], c["activation"], c["slope"]
    ),
    "attention": lambda c: AttentionNet(
        c["input_shape"], c["classes"], c["patch"], c["d_model"], c["hidden"], c["activation"]
    ),
}


def build_model(config: dict) -> torch.nn.Module:
    """Rebuild a model from its ``config()`` dict.

    Parameters
    ----------
    config : dict
        What a built-in model's ``config()`` returns (``{"model": "mlp", "widths": [...], ...}``).

    Returns
    -------
    torch.nn.Module
        A freshly initialised model of that architecture.

    Raises
    ------
    ValueError
        An unknown model kind or invalid keys (the message names what is wrong).

    Examples
    --------
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import build_model
    >>> build_model(MLP([4, 8, 3]).config()).config() == MLP([4, 8, 3]).config()
    True
    """
    if not isinstance(config, dict):
        raise ValueError(f"a model config must be a JSON object, got {type(config).__name__}")
    kind = config.get("model")
    if kind not in _MODELS:
        raise ValueError(f"unknown model {kind!r}; known: {sorted(_MODELS)}")
    try:
        return _MODELS[kind](config)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"invalid {kind} config {config}: {type(exc).__name__}: {exc}") from None


def _state_bytes(model: torch.nn.Module) -> bytes:
    import io

    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    return buffer.getvalue()


def save_checkpoint(result: TrainResult, path, *, dataset=None, extra: dict | None = None) -> Path:
    """Write ``path`` (.pt, a plain state_dict) and ``path.with_suffix('.json')`` (full config), each
    written atomically.

    The sidecar records the SHA-256 of the weights file, so a pair left inconsistent by a
    kill between the two writes is detected by :func:`load_checkpoint`.

    Parameters
    ----------
    result : TrainResult
        The run to save.
    path : str or Path
        Weights file.
    dataset : Dataset, optional
        Recorded (its spec) in the sidecar.
    extra : dict, optional
        More data for the sidecar.

    Returns
    -------
    Path
        The weights path.

    Raises
    ------
    OSError
        The directory is not writable.

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import TrainConfig
    >>> data = load_dataset("gaussian_mixture", n_train=200, n_test=100)
    >>> make = lambda: MLP([10, 16, 4])
    >>> config = TrainConfig(epochs=2, lr=0.05)
    >>> import pathlib, tempfile
    >>> from lmctheory.nn import load_checkpoint, save_checkpoint, train
    >>> path = save_checkpoint(train(make, data, config), pathlib.Path(tempfile.mkdtemp()) / "a.pt", dataset=data)
    >>> path.with_suffix(".json").is_file()
    True
    """
    import hashlib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = _state_bytes(result.model)
    sidecar = {
        "model": result.model.config(),
        "train": result.config.to_dict(),
        "result": result.summary(),
        "dataset": None if dataset is None else dataset.describe(),
        "lmctheory": __version__,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        **(extra or {}),
    }
    write_json(path.with_suffix(".json"), sidecar)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(weights)
    tmp.replace(path)
    return path


def load_checkpoint(path, device: str = "cpu") -> tuple[torch.nn.Module, dict]:
    """The model (rebuilt from the sidecar's config, weights loaded) and the sidecar dict.

    Nothing untrusted is executed or allocated before it is checked: the weights are read with
    ``torch.load(weights_only=True)`` (a pickle that would run code is refused), the model is first
    built on the ``meta`` device (no memory) and its parameter names and shapes compared with the
    file's, and every parameter must be finite.

    Parameters
    ----------
    path : str or Path
        The weights file written by :func:`save_checkpoint`.
    device : str, default "cpu"
        Where to load.

    Returns
    -------
    model : torch.nn.Module
        The model.
    sidecar : dict
        Config, training record, dataset spec and weights hash.

    Raises
    ------
    ValueError
        A missing sidecar, a hash mismatch, parameters that do not fit the config, non-finite
        weights or a file torch refuses (every message names the file).

    Examples
    --------
    >>> from lmctheory.nn import load_dataset
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import TrainConfig
    >>> data = load_dataset("gaussian_mixture", n_train=200, n_test=100)
    >>> make = lambda: MLP([10, 16, 4])
    >>> config = TrainConfig(epochs=2, lr=0.05)
    >>> import pathlib, tempfile, torch
    >>> from lmctheory.nn import load_checkpoint, save_checkpoint, train
    >>> result = train(make, data, config)
    >>> model, sidecar = load_checkpoint(save_checkpoint(result, pathlib.Path(tempfile.mkdtemp()) / "a.pt"))
    >>> torch.equal(model(data.x_test), result.model(data.x_test))
    True
    """
    import hashlib

    path = Path(path)
    sidecar_path = path.with_suffix(".json")
    if not path.is_file() or not sidecar_path.is_file():
        raise FileNotFoundError(f"checkpoint {path} needs {path.name} and {sidecar_path.name}")
    try:
        sidecar = json.loads(sidecar_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{sidecar_path} is not a JSON document ({exc})") from None
    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("model"), dict):
        raise ValueError(f"{sidecar_path} is not a checkpoint sidecar (a JSON object with a 'model' config)")
    raw = path.read_bytes()
    expected = sidecar.get("weights_sha256")
    if expected is not None and hashlib.sha256(raw).hexdigest() != expected:
        raise ValueError(
            f"{path} does not match its sidecar {sidecar_path.name} (weights hash differs: an interrupted "
            "or mixed-up write)"
        )
    try:
        import io

        state = torch.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - corrupt files and refused pickles raise many types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{path} is not a weights-only state_dict (torch.load(weights_only=True) refused it: {reason})"
        ) from None
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError(f"{path} is not a state_dict (a mapping of parameter names to tensors)")
    with torch.device("meta"):
        skeleton = build_model(sidecar["model"])
    expected_shapes = {k: tuple(v.shape) for k, v in skeleton.state_dict().items()}
    if set(expected_shapes) != set(state):
        raise ValueError(
            f"checkpoint {path} does not match its config: keys "
            f"{sorted(set(expected_shapes) ^ set(state))[:5]}"
        )
    wrong = [k for k, v in state.items() if tuple(v.shape) != expected_shapes[k]]
    if wrong:
        k = wrong[0]
        raise ValueError(
            f"checkpoint {path} does not match its config: {k} has shape {tuple(state[k].shape)}, "
            f"the config gives {expected_shapes[k]}"
        )
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ValueError(f"checkpoint {path} holds non-finite values (NaN or inf) in {bad[:3]}")
    model = build_model(sidecar["model"])
    dtype = next(iter(state.values())).dtype
    model = model.to(dtype=dtype)
    model.load_state_dict(state)
    return model.to(device).eval(), sidecar
