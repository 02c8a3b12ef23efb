r"""Dimensions of the neuron clouds of an MLP's hidden layers (Ferbach et al., 2024).

A hidden layer l with incoming weights :math:`W_l` (shape ``(h_l, in_l)``, the
torch ``nn.Linear`` convention) is seen as a cloud of :math:`h_l` neurons. Three
definitions, each the participation ratio (PR) of a PSD matrix S (:ref:`theory-participation-ratio`,
uncentred second moments, one network):

``"weights"`` (naive weight matching)
    neuron i is its weight row :math:`w_i`; :math:`S = W^\top W`.
``"weighted"`` (covariance-weighted weight matching)
    neuron i is :math:`\Sigma^{1/2} w_i` with :math:`\Sigma = E[a a^\top]` the
    uncentred second moment of the layer's input a under ``inputs``;
    :math:`S = W \Sigma W^\top`.
``"activations"`` (activation matching)
    neuron i is its activation over the inputs; :math:`S = E[h h^\top]`, the
    uncentred second moment of the layer's (post-activation) outputs.

PR(S) equals the PR of the neuron cloud's own second moment (same non-zero
eigenvalues), and any :mod:`lmctheory.dimension` estimator can be run on the
cloud itself with ``estimator=``.

Any other network (convolutional, residual, attention) is described by its permutation spec
(``spec=``, e.g. :func:`lmctheory.lmc.permutation_spec`): each permutation group is a cloud of
units, unit i being everything written along axis 0 by the group's weight tensors (a convolution's
kernel, a linear layer's row, in their head or channel blocks); ``"weights"`` gives the PR of that
cloud's second moment. For an MLP's hand-written spec this is the same matrix as above.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from sklearn.base import clone

from ..dimension import ParticipationRatio
from ..utils.validation import as_points, to_numpy

__all__ = ["LayerDimension", "layer_dimensions", "linear_layers", "ACTIVATIONS"]

METHODS = ("weights", "weighted", "activations")
#: what is zero, per method, when a layer's matrix S vanishes (a dead layer)
_ZERO_CLOUD = {
    "weights": "incoming weights are 0",
    "weighted": "pre-activations W a are 0 on these inputs",
    "activations": "activations are 0 on these inputs",
}


def _leaky(slope):
    return lambda z: np.where(z > 0, z, slope * z)


ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "identity": lambda z: z,
    "tanh": np.tanh,
    "leaky_relu": _leaky(0.01),
}


@dataclass(frozen=True)
class LayerDimension:
    """Dimension of one hidden layer's neuron cloud (returned by :func:`layer_dimensions`).

    Parameters
    ----------
    layer : int
        1 for the first hidden layer.
    width : int
        Neurons in the layer.
    fan_in : int
        Incoming weights per neuron.
    method : str
        ``"weights"``, ``"weighted"`` or ``"activations"``.
    participation_ratio : float
        Participation ratio of Ferbach et al.'s matrix for this layer.
    n_inputs : int or None
        Inputs used (the input-dependent methods).
    estimator, estimate : str or None, float or None
        The optional estimator's repr and its estimate on the neuron cloud.
    group : str or None
        The permutation group (``spec=``); None for an MLP's layers.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.lmc import layer_dimensions
    >>> (info,) = layer_dimensions([np.eye(3), np.ones((1, 3))])
    >>> info.layer, info.width, info.fan_in, info.participation_ratio
    (1, 3, 3, 3.0)
    """

    layer: int
    width: int
    fan_in: int
    method: str
    participation_ratio: float
    n_inputs: int | None = None
    estimator: str | None = None
    estimate: float | None = None
    group: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def linear_layers(model, biases=None):
    """``[(W, b), ...]`` (NumPy float64) of an MLP given as a torch module or a list of weights.

    A torch module contributes its ``nn.Linear`` submodules in registration
    order (forward order for ``nn.Sequential``). A list holds weight matrices
    ``(out, in)``; ``biases`` optionally a list of vectors (None entries allowed).

    Parameters
    ----------
    model : torch.nn.Module or list of array_like
        The network.
    biases : list, optional
        Biases for a list of weights.

    Returns
    -------
    list of (ndarray, ndarray or None)
        Weight and bias of every linear layer.

    Raises
    ------
    ValueError, TypeError
        No linear layer, a model of another type, non-2-D or non-finite weights, or biases of the
        wrong number or shape.

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.lmc import linear_layers
    >>> [(W.shape, b) for W, b in linear_layers([np.ones((4, 3)), np.ones((1, 4))])]
    [((4, 3), None), ((1, 4), None)]
    """
    try:
        import torch.nn as tnn
    except ImportError:  # pragma: no cover - torch is a dependency
        tnn = None
    if tnn is not None and isinstance(model, tnn.Module):
        layers = [m for m in model.modules() if isinstance(m, tnn.Linear)]
        if not layers:
            raise ValueError("model has no nn.Linear layer")
        return [
            (
                m.weight.detach().cpu().double().numpy(),
                None if m.bias is None else m.bias.detach().cpu().double().numpy(),
            )
            for m in layers
        ]
    if not isinstance(model, (list, tuple)) or not model:
        raise TypeError("model must be a torch nn.Module or a non-empty list of weight matrices (out, in)")
    if biases is not None and len(biases) != len(model):
        raise ValueError(f"biases has {len(biases)} entries for {len(model)} weight matrices")
    out = []
    for i, W in enumerate(model):
        W = to_numpy(W, f"model[{i}]").astype(np.float64)
        if W.ndim != 2:
            raise ValueError(f"model[{i}] must be a 2-D weight matrix (out, in), got shape {W.shape}")
        if not np.isfinite(W).all():
            raise ValueError(f"model[{i}] contains non-finite weights")
        b = (
            None
            if biases is None or biases[i] is None
            else to_numpy(biases[i], f"biases[{i}]").astype(np.float64)
        )
        if b is not None and b.shape != (W.shape[0],):
            raise ValueError(f"biases[{i}] must have shape ({W.shape[0]},), got {b.shape}")
        if i and W.shape[1] != out[-1][0].shape[0]:
            raise ValueError(
                f"model[{i}] expects {W.shape[1]} inputs but layer {i - 1} has {out[-1][0].shape[0]} outputs"
            )
        out.append((W, b))
    return out


def _layer_inputs_torch(model, inputs):
    """Inputs to every nn.Linear of a torch model, by forward hooks."""
    import torch
    import torch.nn as tnn

    captured = []
    hooks = [
        m.register_forward_hook(lambda mod, args, out: captured.append(args[0].detach()))
        for m in model.modules()
        if isinstance(m, tnn.Linear)
    ]
    try:
        param = next(model.parameters())
        x = torch.as_tensor(inputs, dtype=param.dtype, device=param.device)
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
    return [c.reshape(c.shape[0], -1).cpu().double().numpy() for c in captured]


def _layer_inputs_numpy(layers, inputs, activation):
    act = ACTIVATIONS[activation] if isinstance(activation, str) else activation
    a, out = inputs, []
    for W, b in layers:
        out.append(a)
        z = a @ W.T + (0.0 if b is None else b)
        a = act(z)
    return out


def _spec_clouds(model, spec: dict) -> list[tuple[str, np.ndarray]]:
    """Per permutation group: rows = units, columns = every weight tensor's entries along axis 0."""
    from ._align import _entry, _units, validate_spec

    state = {k: v.detach() for k, v in model.state_dict().items()}
    validate_spec(spec, state)
    clouds = []
    for name, axes in spec.items():
        parts = [
            _units(state[p], 0, outer, inner).double().cpu().numpy()
            for p, axis, outer, inner in map(_entry, axes)
            if axis == 0 and state[p].ndim >= 2
        ]
        if parts:
            clouds.append((name, np.concatenate(parts, axis=1)))
    if not clouds:
        raise ValueError("spec: no permutation group has a weight tensor along axis 0")
    return clouds


def _measured(
    layer, shape, method, gram_factor, cloud, n_inputs, estimator, dead, group=None
) -> LayerDimension:
    """The participation ratio of S = F^T F (``gram_factor`` F) and the optional estimator's value on
    ``cloud``; ``dead`` is the error when F is 0."""
    if not np.any(gram_factor):
        raise ValueError(dead)
    pr = ParticipationRatio(center=False).fit(gram_factor).dimension_
    est_name = est_value = None
    if estimator is not None:
        est_name = type(estimator).__name__
        est_value = float(clone(estimator).fit(cloud).dimension_)
    return LayerDimension(layer, shape[0], shape[1], method, float(pr), n_inputs, est_name, est_value, group)


def _spec_dimensions(model, spec, method, estimator) -> list[LayerDimension]:
    if method != "weights":
        raise ValueError(
            f"with spec=, method must be 'weights' (got {method!r}): a traced network's "
            "activation of each group is not known"
        )
    return [
        _measured(
            layer,
            cloud.shape,
            method,
            cloud,
            cloud,
            None,
            estimator,
            f"group {name}: all its incoming weights are 0: the participation ratio is undefined",
            name,
        )
        for layer, (name, cloud) in enumerate(_spec_clouds(model, spec), start=1)
    ]


def layer_dimensions(
    model,
    inputs=None,
    method: str = "weights",
    *,
    estimator=None,
    biases=None,
    activation="relu",
    spec: dict | None = None,
) -> list[LayerDimension]:
    """Per hidden layer, the participation ratio of Ferbach et al.'s matrix (see the module docstring;
    :ref:`theory-participation-ratio`).

    Parameters
    ----------
    model : torch.nn.Module or list of ndarray
        An MLP (e.g. ``nn.Sequential`` of Linear and activations) or its weight matrices
        ``(out, in)``; the last linear layer is the output layer.
    inputs : array (n, m0), optional
        Required for ``"weighted"`` and ``"activations"``.
    method : {"weights", "weighted", "activations"}
        Which matrix (see the module docstring).
    estimator : a :mod:`lmctheory.dimension` estimator, optional
        A copy of it (``sklearn.base.clone``) is fitted on each layer's neuron cloud (rows: neurons);
        the object passed in is left unfitted.
    biases : list of arrays, optional
        For a list of weights.
    activation : str or callable, default "relu"
        For a list of weights: "relu", "identity", "tanh", "leaky_relu" or a callable on arrays.
    spec : dict, optional
        A permutation spec of ``model`` (a torch module of any architecture): one result per group
        that has a weight tensor along axis 0, in the spec's order; ``method="weights"`` only.

    Returns
    -------
    list of LayerDimension
        One per hidden layer (layer 1 = first hidden layer), or per permutation group with ``spec``.

    Raises
    ------
    ValueError, TypeError
        An unknown method or activation, fewer than 2 linear layers, missing inputs, non-finite
        weights or shapes that do not chain.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.lmc import layer_dimensions
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> [r.layer for r in layer_dimensions(MLP([5, 16, 16, 2]))]
    [1, 2]
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if isinstance(activation, str) and activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {tuple(ACTIVATIONS)} or a callable, got {activation!r}")
    if spec is not None:
        return _spec_dimensions(model, spec, method, estimator)
    layers = linear_layers(model, biases)
    if len(layers) < 2:
        raise ValueError("an MLP with at least one hidden layer needs at least 2 linear layers")
    hidden = layers[:-1]
    acts = None
    if method != "weights":
        if inputs is None:
            raise ValueError(f"method={method!r} needs inputs (n_samples, {layers[0][0].shape[1]})")
        x = as_points(inputs, "inputs")
        if x.shape[1] != layers[0][0].shape[1]:
            raise ValueError(
                f"inputs have {x.shape[1]} features but the first layer expects {layers[0][0].shape[1]}"
            )
        if isinstance(model, (list, tuple)):
            acts = _layer_inputs_numpy(layers, x, activation)
        else:
            acts = _layer_inputs_torch(model, x)
    results = []
    for layer, (W, _) in enumerate(hidden, start=1):
        n_inputs = None if acts is None else acts[0].shape[0]
        if method == "weights":
            gram_factor, cloud = W, W  # S = W^T W
        elif method == "weighted":
            A = acts[layer - 1]  # input of this layer
            gram_factor = A @ W.T / np.sqrt(A.shape[0])  # S = W Sigma W^T = F^T F
            sigma = A.T @ A / A.shape[0]
            lam, U = np.linalg.eigh(sigma)
            root = (U * np.sqrt(np.clip(lam, 0, None))) @ U.T
            cloud = W @ root  # rows Sigma^{1/2} w_i
        else:
            H = acts[layer]  # input of the next layer = this layer's activations
            gram_factor = H / np.sqrt(H.shape[0])  # S = H^T H / n
            cloud = gram_factor.T  # neuron i: its activations over the inputs
        dead = (
            f"layer {layer}: all its {_ZERO_CLOUD[method]} (a dead layer): the participation "
            f"ratio of method={method!r} is undefined"
        )
        results.append(_measured(layer, W.shape, method, gram_factor, cloud, n_inputs, estimator, dead))
    return results
