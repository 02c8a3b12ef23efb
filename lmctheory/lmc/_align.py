r"""Permutation alignment of two networks of the same architecture (:ref:`theory-lmc`).

A *permutation spec* is plain data, as in Git Re-Basin's ``weight_matching.py``:
``{perm name: [(parameter name, axis), ...]}`` — the permutation of one hidden
layer's units acts on those axes (rows of the layer's weight and bias, columns
of the next layer's weight). Built-in models provide it
(``model.permutation_spec()``); :func:`validate_spec` checks it against the
parameters.

A :class:`Permutation` maps unit i of model A to unit ``perms[name][i]`` of
model B; :func:`apply_permutation` re-indexes B so that its unit i is B's unit
``perms[name][i]``, which leaves B's function unchanged.

Matchers (``match(model_a, model_b, method=...)``), each solved exactly with
:func:`lmctheory.ot.solve_assignment`:

``"naive"``
    weight matching on incoming parameters only (Ferbach et al.'s naive WM):
    layers in forward order, neuron i of a layer is its incoming vector
    :math:`\tilde w_i = (w_i, b_i)` (B's columns already permuted by the
    previous layer), maximise :math:`\sum_i \langle \tilde w^A_i, \tilde w^B_{\pi(i)}\rangle`
    (equivalently minimise the squared distances: the norms do not depend on :math:`\pi`).
``"full"``
    Git Re-Basin weight matching (Ainsworth et al. 2023): incoming, outgoing and
    bias terms; coordinate descent over the permutations in random order until
    none changes.
``"weighted"``
    covariance-weighted weight matching (Ferbach et al.): maximise
    :math:`\sum_i \tilde w^{A\top}_i \tilde\Sigma^A \tilde w^B_{\pi(i)}` with
    :math:`\tilde\Sigma^A` the uncentred second moment of A's layer input
    augmented by 1 (so that it is :math:`E[z^A_i z^B_{\pi(i)}]`, the pre-activation
    correlation under ``inputs``).
``"activation"``
    activation matching: maximise the centred cross-covariance of A's and B's
    hidden activations under ``inputs``. Units that are dead on ``inputs`` (zero
    variance) cannot be told apart by activations; such ties are broken by the
    incoming-weight similarity at relative weight ``TIE_BREAK`` = 1e-9.
"""

from __future__ import annotations

import collections
import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import functional_call

from ..ot import solve_assignment

__all__ = [
    "Permutation",
    "METHODS",
    "permutation_spec",
    "validate_spec",
    "match",
    "apply_permutation",
    "functional_difference",
    "check_functional_equivalence",
]

METHODS = ("naive", "full", "weighted", "activation")

#: relative weight of the incoming-weight tie-break in activation matching
TIE_BREAK = 1e-9


@dataclass
class Permutation:
    """Unit i of A is matched to unit ``perms[name][i]`` of B, for each permutation name.

    Returned by :func:`match`; ``inverse()`` undoes it and ``to_dict()`` gives JSON data.

    Parameters
    ----------
    perms : dict of str to ndarray
        One permutation of range(size) per name of the model's permutation spec.
    method : str, default "given"
        How it was found.
    spec : dict
        The permutation spec it applies to (empty: the model's own).
    info : dict
        Details of the matching (iterations, objective).

    Examples
    --------
    >>> import numpy as np
    >>> from lmctheory.lmc import Permutation
    >>> perm = Permutation({"P_0": np.array([2, 0, 1])})
    >>> perm.inverse().perms["P_0"].tolist()
    [1, 2, 0]
    """

    perms: dict[str, np.ndarray]
    method: str = "given"
    spec: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def inverse(self) -> Permutation:
        return Permutation(
            {k: np.argsort(v) for k, v in self.perms.items()}, f"inverse of {self.method}", self.spec, {}
        )

    def to_dict(self) -> dict:
        return {"method": self.method, "perms": {k: v.tolist() for k, v in self.perms.items()}, **self.info}


def _state(model) -> dict[str, torch.Tensor]:
    return {k: v.detach() for k, v in model.state_dict().items()}


def _entry(item) -> tuple[str, int, int, int]:
    """A spec entry as ``(parameter, axis, outer, inner)``: the permutation acts on the middle factor of the
    axis seen as (outer, units, inner); plain ``(parameter, axis)`` entries are (1, units, 1)."""
    if len(item) == 2:
        return item[0], item[1], 1, 1
    param, axis, (outer, inner) = item
    return param, axis, int(outer), int(inner)


def _expanded(perm, outer: int, inner: int):
    """The index along the whole axis that applies ``perm`` to its middle factor."""
    perm = np.asarray(perm)
    size = perm.size
    return (
        np.arange(outer)[:, None, None] * (size * inner)
        + perm[None, :, None] * inner
        + np.arange(inner)[None, None, :]
    ).ravel()


def _units(arr, axis: int, outer: int, inner: int):
    """``arr`` with the units of an entry's axis first, one row per unit (numpy or torch)."""
    shape = tuple(arr.shape)
    size = shape[axis] // (outer * inner)
    viewed = arr.reshape(*shape[:axis], outer, size, inner, *shape[axis + 1 :])
    if isinstance(viewed, torch.Tensor):
        return viewed.movedim(axis + 1, 0).reshape(size, -1)
    return np.moveaxis(viewed, axis + 1, 0).reshape(size, -1)


def _spec_of(model) -> dict:
    if not hasattr(model, "permutation_spec"):
        raise TypeError(
            f"{type(model).__name__} has no permutation_spec(); pass spec=permutation_spec(model, example_input) "
            "(lmctheory.lmc.permutation_spec derives it by tracing)"
        )
    return model.permutation_spec()


def permutation_spec(model, example_input=None) -> dict:
    """The permutation spec of any ``nn.Module``: its own ``permutation_spec()`` when it has one (the
    built-in models' hand-written specs), else derived by tracing its forward pass on ``example_input``
    (:func:`lmctheory.nn.trace_permutation_spec`).

    Parameters
    ----------
    model : torch.nn.Module
        The network.
    example_input : torch.Tensor, optional
        One batch of inputs; required for models without ``permutation_spec()``.

    Returns
    -------
    dict
        ``{name: [(parameter, axis) or (parameter, axis, (outer, inner)), ...]}`` in forward order (a
        :class:`lmctheory.nn.PermutationSpec`, with ``sizes`` and ``describe()``, when traced).

    Raises
    ------
    ValueError
        No ``example_input`` for a model that has to be traced.
    NotImplementedError
        An operation the tracer cannot permute through (named in the message).

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from lmctheory.lmc import permutation_spec
    >>> net = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 2))
    >>> permutation_spec(net, torch.zeros(1, 3))
    {'P_0': [('0.weight', 0), ('0.bias', 0), ('2.weight', 1)]}
    """
    if hasattr(model, "permutation_spec"):
        return model.permutation_spec()
    if example_input is None:
        raise ValueError(f"{type(model).__name__} has no permutation_spec(): give example_input to trace it")
    from ..nn import trace_permutation_spec

    return trace_permutation_spec(model, example_input)


def validate_spec(spec: dict, state: dict) -> dict[str, int]:
    """Check a permutation spec against a state dict; return each permutation's size.

    A spec maps each permutation name to the ``(parameter name, axis)`` pairs it permutes
    (``model.permutation_spec()`` for the built-in models).

    Parameters
    ----------
    spec : dict
        ``{name: [(parameter, axis), ...]}``.
    state : dict
        ``{parameter name: tensor}`` (a state dict).

    Returns
    -------
    dict of str to int
        The length of every permuted axis, by permutation name.

    Raises
    ------
    ValueError
        A permutation acting on nothing, an absent parameter or axis, an axis permuted twice, or
        axes of different lengths under one permutation.

    Examples
    --------
    >>> from lmctheory.lmc import validate_spec
    >>> from lmctheory.nn import MLP
    >>> model = MLP([4, 8, 3])
    >>> validate_spec(model.permutation_spec(), model.state_dict())
    {'P_0': 8}
    """
    sizes, seen = {}, {}
    for name, axes in spec.items():
        if not axes:
            raise ValueError(f"permutation {name!r} acts on no parameter")
        for item in axes:
            param, axis, outer, inner = _entry(item)
            if param not in state:
                raise ValueError(f"permutation {name!r} names parameter {param!r}, absent from the model")
            if not 0 <= axis < state[param].ndim:
                raise ValueError(f"permutation {name!r}: {param!r} has no axis {axis}")
            length = state[param].shape[axis]
            if outer < 1 or inner < 1 or length % (outer * inner):
                raise ValueError(
                    f"permutation {name!r}: axis {axis} of {param!r} ({length}) is not outer x units x inner "
                    f"with outer {outer}, inner {inner}"
                )
            size = length // (outer * inner)
            for other_inner, other_size in seen.get(
                (param, axis), []
            ):  # the factors acted on must not overlap
                if not (inner * size <= other_inner or other_inner * other_size <= inner):
                    raise ValueError(f"axis {axis} of {param!r} is permuted twice")
            seen.setdefault((param, axis), []).append((inner, size))
            if sizes.setdefault(name, size) != size:
                raise ValueError(
                    f"permutation {name!r} acts on axes of different sizes ({sizes[name]} and "
                    f"{size} for {param!r})"
                )
    return sizes


def _check_pair(model_a, model_b) -> tuple[dict, dict]:
    sa, sb = _state(model_a), _state(model_b)
    if sa.keys() != sb.keys():
        missing = sorted(set(sa) ^ set(sb))
        raise ValueError(f"models have different parameters: {missing[:5]}")
    for k in sa:
        if sa[k].shape != sb[k].shape:
            raise ValueError(
                f"parameter {k!r} has shape {tuple(sa[k].shape)} in model_a and "
                f"{tuple(sb[k].shape)} in model_b: not the same architecture"
            )
        if sa[k].device != sb[k].device:
            raise ValueError(f"parameter {k!r} is on {sa[k].device} in model_a and {sb[k].device} in model_b")
    return sa, sb


def _permute(state: dict, spec: dict, perms: dict, skip: str | None = None) -> dict:
    out = dict(state)
    for name, perm in perms.items():
        if name == skip:
            continue
        device = next(iter(state.values())).device
        for item in spec[name]:
            param, axis, outer, inner = _entry(item)
            idx = torch.as_tensor(_expanded(perm, outer, inner), dtype=torch.long, device=device)
            out[param] = out[param].index_select(axis, idx)
    return out


def _check_perms(perms: dict, sizes: dict) -> None:
    if set(perms) != set(sizes):
        raise ValueError(f"permutation names {sorted(perms)} do not match the spec's {sorted(sizes)}")
    for name, p in perms.items():
        p = np.asarray(p)
        if p.shape != (sizes[name],) or not np.array_equal(np.sort(p), np.arange(sizes[name])):
            raise ValueError(f"perms[{name!r}] is not a permutation of range({sizes[name]})")


def apply_permutation(model, perm: Permutation, spec: dict | None = None):
    """A new module: ``model`` with its hidden units re-indexed by ``perm`` (same function).

    Parameters
    ----------
    model : torch.nn.Module
        The model to permute (left unchanged).
    perm : Permutation
        From :func:`match` (or built by hand).
    spec : dict, optional
        Permutation spec (default: the model's).

    Returns
    -------
    torch.nn.Module
        A deep copy with permuted parameters.

    Raises
    ------
    ValueError, TypeError
        Permutation names that do not match the spec, arrays that are not permutations of the
        right size, or a model without a spec.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import apply_permutation, match
    >>> permuted = apply_permutation(model_b, match(model_a, model_b))
    >>> torch.allclose(permuted(x), model_b(x), atol=1e-6)
    True
    """
    spec = spec if spec is not None else (perm.spec or _spec_of(model))
    live = model.state_dict(keep_vars=True)  # the module's own tensors (Parameters kept as such)
    state = {k: v.detach() for k, v in live.items()}
    _check_perms(perm.perms, validate_spec(spec, state))
    permuted = _permute(state, spec, perm.perms)
    changed = [k for k in live if permuted[k] is not state[k]]
    names_of = collections.Counter(id(v) for v in live.values())
    if any(names_of[id(live[k])] > 1 for k in changed):  # a permuted tensor is tied: copy, then load
        out = copy.deepcopy(model)
        out.load_state_dict(permuted)
        return out
    # the copy takes the permuted tensors in place of the originals (no clone, no second copy)
    memo = {
        id(live[k]): (
            torch.nn.Parameter(permuted[k], requires_grad=live[k].requires_grad)
            if isinstance(live[k], torch.nn.Parameter)
            else permuted[k]
        )
        for k in changed
    }
    return copy.deepcopy(model, memo)


def functional_difference(model, perm: Permutation, inputs, spec: dict | None = None) -> float:
    r""":math:`\max_x \lVert f(x) - f_\pi(x) \rVert_\infty / \max_x \lVert f(x) \rVert_\infty` over
    ``inputs``, with :math:`f_\pi` = ``apply_permutation(model, perm)``.

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    perm : Permutation
        A permutation of its units.
    inputs : torch.Tensor
        Inputs to compare on.
    spec : dict, optional
        Permutation spec.

    Returns
    -------
    float
        Relative difference (0 up to rounding for any valid permutation).

    Raises
    ------
    ValueError, TypeError
        As :func:`apply_permutation`.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import functional_difference, match
    >>> functional_difference(model_b, match(model_a, model_b), x) < 1e-6
    True
    """
    permuted = apply_permutation(model, perm, spec)
    with torch.no_grad():
        y, z = model(inputs), permuted(inputs)
    return float((y - z).abs().max() / y.abs().max().clamp_min(1e-30))


def check_functional_equivalence(
    model, perm: Permutation, inputs, spec: dict | None = None, rtol: float = 1e-5
) -> bool:
    """Whether the permuted model computes the same function on ``inputs`` (relative tolerance).

    Parameters
    ----------
    model : torch.nn.Module
        The model.
    perm : Permutation
        A permutation of its units.
    inputs : torch.Tensor
        Inputs to compare on.
    spec : dict, optional
        Permutation spec.
    rtol : float, default 1e-5
        Tolerance on :func:`functional_difference`.

    Returns
    -------
    bool
        ``functional_difference(...) <= rtol``.

    Raises
    ------
    ValueError, TypeError
        As :func:`apply_permutation`.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import check_functional_equivalence, match
    >>> check_functional_equivalence(model_b, match(model_a, model_b), x)
    True
    """
    return functional_difference(model, perm, inputs, spec) <= rtol


# ------------------------------------------------------------------ matchers


def _working_copy(t: torch.Tensor) -> np.ndarray:
    """Parameters in the precision of the weight-matching GEMMs: float64 for float64 models, float32
    otherwise (the precision the weights carry, as in Git Re-Basin; half precision is widened)."""
    dtype = torch.float64 if t.dtype == torch.float64 else torch.float32
    return t.to(dtype).cpu().numpy()


def _incoming(state: dict, axes: list) -> np.ndarray:
    """Rows: units; columns: every parameter entry on which the unit acts along axis 0."""
    rows = []
    for item in axes:
        param, axis, outer, inner = _entry(item)
        if axis == 0:
            rows.append(_units(state[param], 0, outer, inner).double().cpu().numpy())
    return np.concatenate(rows, axis=1)


def _forward_order(spec: dict) -> list[str]:
    return list(spec)  # built-in specs are written in forward order


def _naive(sa, sb, spec, **_):
    perms = {}
    for name in _forward_order(spec):
        sb_now = _permute(sb, spec, perms)
        sim = _incoming(sa, spec[name]) @ _incoming(sb_now, spec[name]).T
        perms[name] = solve_assignment(sim, maximize=True)
    return perms, {}


class _WeightMatching:
    """Git Re-Basin weight matching: for one permutation at a time, maximise
    sum_{(p, axis)} <A_p, B_p permuted on all its axes> by an exact assignment, holding the others (and
    itself on a parameter's other axes: a weight applied twice, P W P^T, as in Git Re-Basin's code).

    The first sweep visits the permutations in forward order (from the input side), so each sees the one
    feeding it already matched; later sweeps use a seeded random order. It stops after a sweep that changes
    nothing. The arrays each similarity needs are computed once and kept as attributes: A's parameters with
    an entry's units first (``a_units``), B's with an entry's units first before any permutation
    (``b_moved``), and each term with the permutations it was computed with (``terms``).
    """

    def __init__(self, sa, sb, spec):
        self.sizes = validate_spec(spec, sa)
        self.names = list(spec)
        self.spec = spec
        self.entries = {q: [_entry(item) for item in axes] for q, axes in spec.items()}
        params = {e[0] for es in self.entries.values() for e in es}
        self.a = {p: _working_copy(sa[p]) for p in params}  # converted once
        self.b = {p: _working_copy(sb[p]) for p in params}
        self.axes_of = {
            p: [(q, e[1:]) for q, es in self.entries.items() for e in es if e[0] == p] for p in params
        }
        self.perms = {name: np.arange(n) for name, n in self.sizes.items()}
        self.terms: dict = {}  # (perm, param, axis, inner) -> (the other permutations it used, term)
        self.a_units: dict = {}
        self.b_moved: dict = {}
        self.blocks = self._blocks()
        self.neighbours = {q: self._coupled(q) for q in self.names}

    def _blocks(self) -> dict:
        """An outer factor (attention heads) whose units each hold a block permuted by another permutation
        of the spec (the dimensions within a head): until that one is matched, the units are compared by a
        similarity the block's permutation cannot change, sum |X_a X_b^T|_F^2 over the entries (X_a: unit
        a's block rows by the rest), so that a wrong within-block order cannot steer the units' matching."""
        blocks = {}
        for q in self.names:
            found = []
            for p, axis, _, inner in self.entries[q]:
                partner = [
                    (r, self.sizes[r], i)
                    for r, (ax, _, i) in self.axes_of[p]
                    if r != q and ax == axis and inner > 1 and i * self.sizes[r] == inner
                ]
                found.append(partner[0] if partner else None)
            if all(found):
                blocks[q] = found
        return blocks

    def _coupled(self, q) -> list:
        """The permutations sharing a parameter with ``q`` (``q`` itself when it acts on two axes of one
        parameter, as a weight applied twice does): if they are as at its last solve, so is its solution."""
        params = [e[0] for e in self.entries[q]]
        found = {r for p in set(params) for r, _ in self.axes_of[p]}
        return sorted(found if len(params) > len(set(params)) else found - {q})

    def _others(self, name, p, axis, outer, inner) -> list:
        """The permutations acting on ``p`` besides this entry (``name`` itself on another axis included)."""
        return [(q, layout) for q, layout in self.axes_of[p] if (q, layout) != (name, (axis, outer, inner))]

    def _a_units(self, p, axis, outer, inner):
        key = (p, axis, outer, inner)
        if key not in self.a_units:
            self.a_units[key] = np.ascontiguousarray(_units(self.a[p], axis, outer, inner))
        return self.a_units[key]

    def _b_units(self, p, axis, outer, inner, others):
        """B's ``p`` with the other permutations applied, units of ``axis`` first, flattened. When no other
        permutation acts on ``axis``, the units-first layout is made once and each call is one gather
        whose result is already laid out for the product."""
        b = self.b[p]
        if any(ax == axis for _, (ax, _, _) in others):
            for q, (ax, o, i) in others:
                b = np.take(b, _expanded(self.perms[q], o, i), axis=ax)
            return _units(b, axis, outer, inner)
        shape = b.shape
        size = shape[axis] // (outer * inner)
        moved = (p, axis, outer, inner)
        if moved not in self.b_moved:
            self.b_moved[moved] = np.ascontiguousarray(
                np.moveaxis(b.reshape(*shape[:axis], outer, size, inner, *shape[axis + 1 :]), axis + 1, 0)
            )
        b = self.b_moved[moved]
        for q, (ax, o, i) in others:  # axes before ``axis`` moved by 1, after it by 2 (outer, inner)
            b = np.take(b, _expanded(self.perms[q], o, i), axis=ax + 1 if ax < axis else ax + 2)
        return b.reshape(size, -1)

    def block_similarity(self, name):
        """Units compared through their blocks, invariant to the blocks' own permutation."""
        total = 0.0
        for (p, axis, outer, inner), (_, size, unit) in zip(
            self.entries[name], self.blocks[name], strict=True
        ):
            a = self._a_units(p, axis, outer, inner)
            b = self._b_units(p, axis, outer, inner, self._others(name, p, axis, outer, inner))
            post = unit * int(np.prod(self.a[p].shape[axis + 1 :]))
            xa, xb = (
                x.reshape(x.shape[0], -1, size, post).transpose(0, 2, 1, 3).reshape(x.shape[0], size, -1)
                for x in (a, b)
            )
            total = total + (np.einsum("asf,btf->abst", xa, xb) ** 2).sum(axis=(2, 3))
        return total

    def similarity(self, name):
        """sum over ``name``'s entries of A's units against B's (the other permutations applied); a term is
        recomputed only when a permutation it uses changed."""
        total = 0.0
        for p, axis, outer, inner in self.entries[name]:
            others = self._others(name, p, axis, outer, inner)
            key = tuple(self.perms[q].tobytes() for q, _ in others)
            hit = self.terms.get((name, p, axis, inner))
            if hit is None or hit[0] != key:
                hit = self.terms[(name, p, axis, inner)] = (
                    key,
                    self._a_units(p, axis, outer, inner) @ self._b_units(p, axis, outer, inner, others).T,
                )
            total = total + hit[1]
        return total

    def run(self, *, max_iter: int = 100, seed=0) -> tuple[dict, dict]:
        """Coordinate ascent over the permutations: ``(perms, {"iterations", "converged"})``."""
        rng = np.random.default_rng(seed)
        version = dict.fromkeys(self.names, 0)
        solved_at: dict = {}
        perms = self.perms
        for iteration in range(max_iter):
            changed = False
            for name in _forward_order(self.spec) if iteration == 0 else rng.permutation(self.names):
                seen = tuple(version[q] for q in self.neighbours[name])
                if solved_at.get(name) == seen:
                    continue  # its neighbours are as at its last solve: the same similarity, the same answer
                solved_at[name] = seen
                unmatched_block = name in self.blocks and any(
                    r not in solved_at for r, _, _ in self.blocks[name]
                )
                sim = self.block_similarity(name) if unmatched_block else self.similarity(name)
                new = solve_assignment(sim, maximize=True)
                rows = np.arange(len(new))
                old_value, new_value = sim[rows, perms[name]].sum(), sim[rows, new].sum()
                if new_value > old_value + 1e-12 * max(1.0, abs(old_value)):
                    perms[name], changed = new, True
                    version[name] += 1
                if unmatched_block:  # a provisional solve: solved again on the weights' own similarity
                    solved_at[name], changed = None, True
            if not changed:
                return perms, {"iterations": iteration + 1, "converged": True}
        return perms, {"iterations": max_iter, "converged": False}


def _full(sa, sb, spec, *, max_iter=100, seed=0, **_):
    """Git Re-Basin weight matching (:class:`_WeightMatching`)."""
    return _WeightMatching(sa, sb, spec).run(max_iter=max_iter, seed=seed)


def _capture(model, module_names: list[str], inputs, *, outputs: bool = False) -> dict[str, torch.Tensor]:
    """Inputs (or outputs) of the named modules during one forward pass of ``model``."""
    modules = dict(model.named_modules())
    captured, hooks = {}, []
    for mname in module_names:
        hooks.append(
            modules[mname].register_forward_hook(
                lambda mod, args, out, key=mname: captured.__setitem__(
                    key, (out if outputs else args[0]).detach()
                )
            )
        )
    parameter = next(model.parameters(), None)
    if parameter is not None and torch.is_floating_point(inputs):  # a float64 model takes float64 inputs
        inputs = inputs.to(device=parameter.device, dtype=parameter.dtype)
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for h in hooks:
            h.remove()
    return captured


def _channels_last(t: torch.Tensor) -> np.ndarray:
    """(N, C) or (N, C, *spatial) -> (samples, C): every example and position is a sample."""
    if t.ndim > 2:
        t = t.movedim(1, -1).reshape(-1, t.shape[1])
    return t.double().cpu().numpy()


def _owner(spec_axes, axis: int) -> str:
    """The module owning the weight permuted on ``axis`` (``layers.1.weight`` -> ``layers.1``)."""
    for item in spec_axes:
        p, a, outer, inner = _entry(item)
        if a == axis and p.endswith("weight") and outer == inner == 1:
            return p.rsplit(".", 1)[0]
    raise ValueError("weighted and activation matching need a weight parameter in each permutation")


def _weighted(sa, sb, spec, *, model_a, inputs, **_):
    """Maximise E[z^A_i z^B_j] over examples (and positions), both layers fed A's layer input.

    For a linear layer this is w~_A^T Sigma~ w~_B with Sigma~ the uncentred second moment of
    A's input augmented by 1 (bias); for convolutions, patches at every position are samples.
    """
    owners = [_owner(spec[n], 0) for n in _forward_order(spec)]
    layer_inputs = _capture(model_a, owners, inputs)
    modules = dict(model_a.named_modules())
    perms = {}
    for name, mname in zip(_forward_order(spec), owners, strict=True):
        sb_now = _permute(sb, spec, perms)
        module, inp = modules[mname], layer_inputs[mname]
        own = [n for n, _ in module.named_parameters()]
        with torch.no_grad():
            za = functional_call(module, {n: sa[f"{mname}.{n}"] for n in own}, (inp,))
            zb = functional_call(module, {n: sb_now[f"{mname}.{n}"] for n in own}, (inp,))
        a, b = _channels_last(za), _channels_last(zb)
        perms[name] = solve_assignment(a.T @ b / a.shape[0], maximize=True)
    return perms, {}


def _activation(sa, sb, spec, *, model_a, model_b, inputs, **_):
    """Maximise the centred cross-covariance of A's and B's unit activations act(z)."""
    if not hasattr(model_a, "act"):
        raise TypeError("activation matching needs a model with an `act` activation module")
    owners = [_owner(spec[n], 0) for n in _forward_order(spec)]
    za = _capture(model_a, owners, inputs, outputs=True)
    zb = _capture(model_b, owners, inputs, outputs=True)
    perms = {}
    for name, mname in zip(_forward_order(spec), owners, strict=True):
        with torch.no_grad():
            a = _channels_last(model_a.act(za[mname]))
            b = _channels_last(model_a.act(zb[mname]))
        a, b = a - a.mean(0), b - b.mean(0)
        cov = a.T @ b / a.shape[0]
        # units dead on the inputs (zero variance) are indistinguishable by activations: break
        # those ties by incoming weights, at a weight too small to change any other decision
        tie = _incoming(sa, spec[name]) @ _incoming(_permute(sb, spec, perms), spec[name]).T
        scale = TIE_BREAK * max(np.abs(cov).max(), 1e-300) / max(np.abs(tie).max(), 1e-300)
        perms[name] = solve_assignment(cov + scale * tie, maximize=True)
    return perms, {}


_MATCHERS = {"naive": _naive, "full": _full, "weighted": _weighted, "activation": _activation}


def match(
    model_a,
    model_b,
    *,
    method: str = "full",
    inputs=None,
    spec: dict | None = None,
    max_iter: int = 100,
    seed: int = 0,
) -> Permutation:
    """Align ``model_b`` to ``model_a``: the :class:`Permutation` to apply to B.

    Methods: ``"naive"`` (each layer's incoming weights matched alone, in forward order),
    ``"full"`` (weight matching by coordinate descent over all permutations, Git Re-Basin),
    ``"weighted"`` (incoming weights weighted by the input covariance) and ``"activation"``
    (activation matching on ``inputs``). Every assignment is solved exactly
    (:func:`lmctheory.ot.solve_assignment`).

    Parameters
    ----------
    model_a, model_b : torch.nn.Module
        Same architecture, with a permutation spec (``permutation_spec()``) or ``spec``.
    method : {"naive", "full", "weighted", "activation"}, default "full"
        The matching.
    inputs : torch.Tensor, optional
        Model inputs; required by ``"weighted"`` and ``"activation"``, ignored otherwise.
    spec : dict, optional
        A permutation spec (default: the model's).
    max_iter : int, default 100
        Coordinate-descent sweeps of ``"full"``.
    seed : int, default 0
        Order of the coordinate descent of ``"full"``.

    Returns
    -------
    Permutation
        Apply it to B with :func:`apply_permutation`.

    Raises
    ------
    ValueError, TypeError
        An unknown method, different architectures or devices, missing or non-finite inputs, a
        model without a permutation spec, or an invalid spec.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> _ = torch.manual_seed(0)
    >>> model_a, model_b = MLP([4, 8, 3]), MLP([4, 8, 3])
    >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
    >>> from lmctheory.lmc import apply_permutation, match
    >>> perm = match(model_a, model_b)
    >>> sorted(perm.perms["P_0"].tolist()) == list(range(8))
    True
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    sa, sb = _check_pair(model_a, model_b)
    spec = spec if spec is not None else _spec_of(model_a)
    validate_spec(spec, sa)
    if method in ("weighted", "activation"):
        if inputs is None:
            raise ValueError(f"method={method!r} needs inputs (a tensor of model inputs)")
        if not torch.is_tensor(inputs):
            raise TypeError("inputs must be a torch tensor")
        if not torch.isfinite(inputs).all():
            raise ValueError("inputs contain non-finite values")
    perms, info = _MATCHERS[method](
        sa, sb, spec, max_iter=max_iter, seed=seed, model_a=model_a, model_b=model_b, inputs=inputs
    )
    return Permutation(perms, method, spec, info)
