"""Permutation specs of arbitrary ``nn.Module`` networks, derived by tracing (torch.fx, or
torch.export where torch.fx fails: :mod:`lmctheory.nn`).

A permutation spec says which parameter axes one re-indexing of hidden units touches:
``{name: [(parameter or buffer name, axis), ...]}`` (the format of the built-in models'
``permutation_spec()`` and of :func:`lmctheory.lmc.apply_permutation`). :func:`trace_permutation_spec`
derives it from the computation graph: every layer that creates channels (``nn.Linear``,
``nn.Conv1d/2d``, the built-in locally connected and channel-linear layers) opens a channel space; a
space flows unchanged through elementwise activations, dropout, pooling, batch norm (whose affine
parameters and running statistics follow it), layer norm over the channel axis and flattening of
1 x 1 maps; adding tensors (a residual connection) merges their spaces into one permutation; the
consumer's input axis joins its input's space. Spaces joined with the network's input or output are
not permuted. An operation the tracer cannot permute raises one error naming it.

:class:`PermutationTracer` walks the graph with one method per node kind (as ``torch.fx.Interpreter``
does); modules go through a rule table keyed by layer type (:func:`lmctheory.nn.register_permutation_rule`,
which users call for their own layers), functions and methods through one keyed by their target.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from ._layers import ChannelLinear, LocallyConnected2d
from ._permutation_rules import custom_leaf_types, permutation_rule, register_permutation_rule

__all__ = ["PermutationSpec", "PermutationTracer", "trace_permutation_spec"]

_ELEMENTWISE_MODULES = (
    nn.ReLU,
    nn.LeakyReLU,
    nn.Tanh,
    nn.GELU,
    nn.Sigmoid,
    nn.SiLU,
    nn.ELU,
    nn.Softplus,
    nn.Identity,
    nn.Dropout,
    nn.MaxPool1d,
    nn.MaxPool2d,
    nn.AvgPool1d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool1d,
    nn.AdaptiveAvgPool2d,
    nn.Softmax,
)
_ELEMENTWISE_FUNCTIONS = {
    torch.relu,
    torch.tanh,
    torch.sigmoid,
    nn.functional.relu,
    nn.functional.leaky_relu,
    nn.functional.gelu,
    nn.functional.silu,
    nn.functional.elu,
    nn.functional.dropout,
    nn.functional.max_pool2d,
    nn.functional.avg_pool2d,
    nn.functional.adaptive_avg_pool2d,
}
_ELEMENTWISE_FUNCTIONS |= {torch.softmax, nn.functional.softmax, nn.functional.log_softmax, torch.exp}
# elementwise, or equivariant along the axis they act on (softmax)
_ELEMENTWISE_METHODS = {
    "relu",
    "relu_",
    "tanh",
    "sigmoid",
    "exp",
    "softmax",
    "log_softmax",
    "contiguous",
    "clone",
    "float",
    "double",
    "to",
    "type_as",
}
_RESHAPING = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze}
_RESHAPING |= {"flatten", "unflatten", "view", "reshape", "squeeze", "unsqueeze"}
_MATMUL = {operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm"}
_REDUCING = {torch.mean, torch.sum, "mean", "sum"}  # over some axes: permutation-invariant there
# elementwise between tensors (``x += y`` traces as operator.add)
_MERGING = {operator.add, operator.sub, torch.add, torch.sub, "add", "sub", "add_", "sub_"}
_SCALING = {operator.mul, operator.truediv, torch.mul, "mul", "div", "mul_", "div_"}  # by a scalar only


class PermutationSpec(dict):
    """A permutation spec (``{name: [(parameter, axis), ...]}``) that can describe itself.

    Parameters
    ----------
    groups : dict
        The spec.
    sizes : dict
        Units per permutation.

    Raises
    ------
    TypeError, ValueError
        ``groups`` or ``sizes`` that are not mappings (``dict``'s own errors).

    Examples
    --------
    >>> from lmctheory.nn import PermutationSpec
    >>> spec = PermutationSpec({"P_0": [("fc.weight", 0), ("out.weight", 1)]}, {"P_0": 8})
    >>> print(spec.describe())
    P_0 (8 units): fc.weight[axis 0], out.weight[axis 1]
    """

    def __init__(self, groups: dict, sizes: dict):
        super().__init__(groups)
        self.sizes = dict(sizes)

    def describe(self) -> str:
        """One line per permutation: its size and every parameter axis it touches."""
        return "\n".join(
            f"{name} ({self.sizes[name]} units): " + ", ".join(_describe_entry(*entry) for entry in axes)
            for name, axes in self.items()
        )


def _describe_entry(param: str, axis: int, layout=None) -> str:
    if layout is None:
        return f"{param}[axis {axis}]"
    outer, inner = layout
    return (
        f"{param}[axis {axis}"
        + (f", blocks of {inner}" if inner > 1 else "")
        + (f", {outer} tiles" if outer > 1 else "")
        + "]"
    )


@dataclass
class _Space:
    size: int
    members: list  # (param, axis, outer, inner)
    created: bool  # opened by a layer (not only a parameter axis read directly)
    key: tuple  # forward order: creation order, a refinement's factors right after the space they refine
    split: list | None = None  # refined into factors (outer to inner) by a reshape


class _Spaces:
    """Union-find over channel spaces; space 0 is the fixed one (network input and output, positions).

    A tensor axis is a tuple of factors ``(space, size)``, outer to inner (row-major), size-1 factors
    omitted: ``((s, C),)`` for a channel axis, ``((s_h, h), (s_d, d))`` for heads x head dimensions,
    ``((s, C), (0, H W))`` for a flattened (C, H, W) map. A reshape that cuts a space into factors refines
    it (:meth:`split`): the permutation becomes one of each factor (a subgroup, still a symmetry).
    """

    def __init__(self):
        self.parent = [0]
        self.spaces = [_Space(-1, [], True, (0,))]
        self.owner: dict = {}  # (param, axis, outer, inner) -> a space it follows

    def new(self, size: int, created: bool = True, key: tuple | None = None) -> int:
        self.parent.append(len(self.parent))
        self.spaces.append(_Space(size, [], created, key or (len(self.parent) - 1,)))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def factors(self, space: int, size: int) -> tuple:
        """The factors a (possibly refined) space stands for now."""
        if size == 1:
            return ()
        root = self.find(space)
        if root == 0:
            return ((0, size),)
        split = self.spaces[root].split
        if split is None:
            return ((root, size),)
        return tuple(f for s, n in split for f in self.factors(s, n))

    def axis(self, factors) -> tuple:
        """``factors`` with refinements expanded, roots found and adjacent fixed factors merged."""
        out = []
        for s, n in factors:
            for f in self.factors(s, n):
                if f[0] == 0 and out and out[-1][0] == 0:
                    out[-1] = (0, out[-1][1] * f[1])
                else:
                    out.append(f)
        return tuple(out)

    def split(self, space: int, sizes: list[int]) -> list[int]:
        """Refine ``space`` into factors of ``sizes`` (outer to inner); its members follow."""
        root = self.find(space)
        if root == 0:
            return [0] * len(sizes)
        old = self.spaces[root]
        parts = [self.new(n, old.created, old.key + (k,)) for k, n in enumerate(sizes)]
        members, old.members, old.split = old.members, [], list(zip(parts, sizes, strict=True))
        for param, axis, outer, inner in members:
            self.owner.pop((param, axis, outer, inner), None)
            for k, s in enumerate(parts):
                self.attach(s, (param, axis, outer * math.prod(sizes[:k]), inner * math.prod(sizes[k + 1 :])))
        return parts

    def attach(self, space: int, member: tuple) -> None:
        """``member`` = (param, axis, outer, inner) follows ``space``. A parameter axis that already follows
        another space (a module or parameter used twice: shared weights) makes the two one permutation."""
        if member in self.owner:
            self.union(self.owner[member], space, f"{member[0]} (shared) axis {member[1]}")
        else:
            self.owner[member] = space
            self.spaces[self.find(space)].members.append(member)

    def union(self, i: int, j: int, where: str) -> int:
        i, j = self.find(i), self.find(j)
        if i == j:
            return i
        if 0 in (i, j):  # joining the fixed space fixes the other
            keep, drop = (i, j) if i == 0 else (j, i)
        else:
            if self.spaces[i].size != self.spaces[j].size:
                raise ValueError(
                    f"{where}: combines tensors of {self.spaces[i].size} and {self.spaces[j].size} channels"
                )
            # the earlier space (forward order) names the union
            keep, drop = sorted((i, j), key=lambda s: self.spaces[s].key)
        self.parent[drop] = keep
        self.spaces[keep].members += self.spaces[drop].members
        self.spaces[keep].created |= self.spaces[drop].created
        return keep

    def join(self, a: tuple, b: tuple, node) -> None:
        """Make two axes carry one permutation (added, multiplied or contracted together)."""
        a, b = self.axis(a), self.axis(b)
        if not a or not b:
            return  # a broadcast axis of size 1
        if all(s == 0 for s, _ in a) or all(s == 0 for s, _ in b):
            for s, _ in a + b:  # one side fixed: the other is fixed too
                self.union(s, 0, node.name)
            return
        if len(a) == 1 and len(b) > 1:
            self.split(a[0][0], [n for _, n in b])
        elif len(b) == 1 and len(a) > 1:
            self.split(b[0][0], [n for _, n in a])
        a, b = self.axis(a), self.axis(b)
        if [n for _, n in a] != [n for _, n in b]:
            raise _unsupported(node, f"combines axes factored as {[n for _, n in a]} and {[n for _, n in b]}")
        for (s, _), (t, _) in zip(a, b, strict=True):
            self.union(s, t, node.name)

    def add(self, factors: tuple, param: str, axis: int) -> None:
        """``param``'s ``axis`` is laid out as ``factors``: each permuted factor acts on its part of it."""
        factors = self.axis(factors)
        sizes = [n for _, n in factors]
        for k, (s, _) in enumerate(factors):
            if s != 0:
                self.attach(s, (param, axis, math.prod(sizes[:k]), math.prod(sizes[k + 1 :])))


def _unsupported(node, detail: str = "") -> NotImplementedError:
    """The one-line error naming the operation and the module whose forward runs it."""
    target = getattr(node.target, "__name__", node.target)
    stack = node.meta.get("nn_module_stack") or {}
    owner = f"module {list(stack)[-1]!r}" if stack else "the model's own forward"
    return NotImplementedError(
        f"cannot derive a permutation spec through {node.op} {target!r} in {owner} (graph node {node.name!r})"
        + (f": {detail}" if detail else "")
    )


class _Tracer(torch.fx.Tracer):
    """torch.fx's tracer with every layer that has a permutation rule outside torch as a leaf (lmctheory's
    own layers and users'), and multi-head attention."""

    def is_leaf_module(self, m, qualname) -> bool:
        leaves = (nn.MultiheadAttention, *custom_leaf_types())
        return isinstance(m, leaves) or super().is_leaf_module(m, qualname)


class PermutationTracer:
    """Derives a permutation spec by walking a traced graph, one method per node kind.

    The state of each tensor is a tuple of *axes*, one per tensor axis; an axis is a tuple of factors
    ``(space, size)``, outer to inner (row-major), where space 0 is fixed (no permutation acts on it) and
    size-1 factors are left out. Module calls go through the rule table of layer types
    (:func:`lmctheory.nn.register_permutation_rule`), function and method calls through a table keyed by
    their target. A rule uses :meth:`opened`, :meth:`follow`, :meth:`join`, :meth:`fixed`, :meth:`shape`
    and :meth:`unsupported`.

    Parameters
    ----------
    model : torch.nn.Module
        The network the graph was traced from.
    graph : torch.fx.Graph
        Its graph, with shapes propagated (``tensor_meta`` on every node).

    Raises
    ------
    TypeError
        ``graph`` is not a ``torch.fx.Graph``.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP, PermutationTracer
    >>> from torch.fx.passes.shape_prop import ShapeProp
    >>> model = MLP([4, 8, 3])
    >>> module = torch.fx.symbolic_trace(model)
    >>> _ = ShapeProp(module).propagate(torch.zeros(2, 4))
    >>> sorted(PermutationTracer(model, module.graph).run().sizes.items())
    [('P_0', 8)]
    """

    def __init__(self, model: nn.Module, graph: torch.fx.Graph):
        if not isinstance(graph, torch.fx.Graph):
            raise TypeError(f"graph must be a torch.fx.Graph, got {type(graph).__name__}")
        self.graph = graph
        self.modules = dict(model.named_modules())
        self.spaces = _Spaces()
        self.state: dict = {}  # node -> tuple of axes, a list of those (tuples), or None

    def run(self) -> PermutationSpec:
        """Walk the graph in order and gather the permutations: :class:`PermutationSpec`."""
        for node in self.graph.nodes:
            getattr(self, node.op)(node)
        return self._spec()

    # ------------------------------------------------------------ node kinds

    def placeholder(self, node) -> None:
        self.state[node] = self.fixed(self.shape(node)) if self.shape(node) is not None else None

    def output(self, node) -> None:
        """What the network returns is not permuted: every space reaching the output is fixed."""
        for arg in node.all_input_nodes:
            values = self.state.get(arg)
            for value in values if isinstance(values, list) else [values]:
                for axis in value or ():
                    for s, _ in self.spaces.axis(axis):
                        self.spaces.union(s, 0, node.name)

    def get_attr(self, node) -> None:
        shape = self.shape(node)
        self.state[node] = self._parameter_axes(node.target, shape) if shape is not None else None

    def call_module(self, node) -> None:
        m, name = self.modules[node.target], node.target
        rule = permutation_rule(m)
        if rule is None:
            raise self.unsupported(node, f"module of type {type(m).__name__}")
        if isinstance(m, nn.MultiheadAttention):
            self.state[node] = rule(self, node, m, name, [self.axes(a) for a in node.args[:3]])
            return
        (arg,) = node.all_input_nodes
        self.state[node] = rule(self, node, m, name, self.axes(arg))

    def call_function(self, node) -> None:
        target = node.target
        if target is operator.getitem and isinstance(self.state.get(node.args[0]), list):
            self.state[node] = self.state[node.args[0]][node.args[1]]
            return
        if self.shape(node) is None:  # sizes, shapes, attributes: not tensors
            self.state[node] = None
            return
        tensors = [a for a in node.all_input_nodes if isinstance(self.state.get(a), tuple)]
        try:
            rule = _FUNCTION_RULES.get(target)
        except TypeError:  # an unhashable target
            rule = None
        if rule is None:
            raise self.unsupported(node)
        self.state[node] = rule(self, node, tensors)

    call_method = call_function

    # ------------------------------------------------------------ what rules use

    def shape(self, node) -> tuple | None:
        """The shape of ``node``'s tensor (None for non-tensors)."""
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    @staticmethod
    def fixed(sizes) -> tuple:
        """Axes of these sizes that no permutation acts on."""
        return tuple(((0, int(n)),) if n > 1 else () for n in sizes)

    def axes(self, node) -> tuple:
        """The axes of ``node``'s tensor, refinements expanded."""
        value = self.state.get(node)
        if not isinstance(value, tuple):
            raise self.unsupported(node, "not a tensor")
        return tuple(self.spaces.axis(a) for a in value)

    def opened(self, size: int, *params: str) -> int:
        """A layer's output space of ``size`` channels, acting on axis 0 of ``params`` (weight rows, bias)."""
        s = self.spaces.new(size)
        for p in params:
            self.spaces.attach(s, (p, 0, 1, 1))
        return self.spaces.find(s)

    def follow(self, axis: tuple, param: str, param_axis: int) -> None:
        """``param``'s axis ``param_axis`` is laid out as ``axis``: each permutation of it acts there too."""
        self.spaces.add(axis, param, param_axis)

    def join(self, a: tuple, b: tuple, node) -> None:
        """Two axes carry one permutation (added, multiplied or contracted together)."""
        self.spaces.join(a, b, node)

    @staticmethod
    def unsupported(node, detail: str = "") -> NotImplementedError:
        """The one-line error naming the operation and the module whose forward runs it."""
        return _unsupported(node, detail)

    @staticmethod
    def arg(node, index: int, name: str, default=None):
        """Argument ``index`` of a call, positional or by keyword ``name``."""
        if len(node.args) > index:
            return node.args[index]
        return node.kwargs.get(name, default)

    # ------------------------------------------------------------ shape-changing operations

    def reshaped(self, node, source) -> tuple:
        """Row-major reshapes (view, flatten, unflatten, squeeze, ...) regroup the factors; one that cuts a
        permuted factor where it does not divide raises."""
        before, after = self.shape(source), self.shape(node)
        seq = [f for axis in self.axes(source) for f in axis]
        if all(s == 0 for s, _ in seq):
            return self.fixed(after)
        out = []
        for m in after:
            axis, need = [], int(m)
            while need > 1:
                s, n = seq.pop(0)
                g = math.gcd(n, need)
                if g == n:
                    axis.append((s, n))
                elif s == 0 and g > 1:
                    axis.append((0, g))
                    seq.insert(0, (0, n // g))
                elif s != 0 and g == need:
                    head, rest = self.spaces.split(s, [need, n // need])
                    axis.append((head, need))
                    seq.insert(0, (rest, n // need))
                else:
                    raise self.unsupported(
                        node, f"reshaping {before} to {after} mixes channels and positions"
                    )
                need //= g
            out.append(tuple(axis))
        return tuple(self.spaces.axis(a) for a in out)

    def broadcast(self, node, operands) -> tuple:
        """Elementwise between tensors: aligned axes (from the right) carry one permutation."""
        out = self.shape(node)
        result = list(self.fixed(out))
        for position in range(1, len(out) + 1):
            present = [self.axes(t)[-position] for t in operands if len(self.shape(t)) >= position]
            present = [a for a in present if a]
            for other in present[1:]:
                self.join(present[0], other, node)
            if present:
                result[-position] = present[0]
        return tuple(self.spaces.axis(a) for a in result)

    def per_channel(self, node, x) -> tuple:
        """Elementwise operations and pooling keep the axes; pooling may resize unpermuted ones (an
        adaptive average pool of a 1 x 1 map to 7 x 7)."""
        out = self.shape(node)
        if len(out) != len(x):
            raise self.unsupported(node, f"changes the number of axes from {len(x)} to {len(out)}")
        kept = []
        for axis, n in zip(x, out, strict=True):
            if math.prod(size for _, size in axis) == n:
                kept.append(axis)
            elif all(s == 0 for s, _ in axis):
                kept.append(self.fixed((n,))[0])
            else:
                raise self.unsupported(node, "resizes a permuted channel axis")
        return tuple(kept)

    def _parameter_axes(self, name: str, sizes) -> tuple:
        """A parameter read directly (a positional embedding, a class token): every axis may follow
        whatever it is combined with; an axis combined with nothing a layer opened stays fixed."""
        out = []
        for axis, n in enumerate(sizes):
            if n > 1:
                s = self.spaces.new(int(n), created=False)
                self.spaces.attach(s, (name, axis, 1, 1))
                out.append(((s, int(n)),))
            else:
                out.append(())
        return tuple(out)

    def _spec(self) -> PermutationSpec:
        spaces = self.spaces
        groups, sizes = {}, {}
        roots = sorted(
            {spaces.find(i) for i in range(1, len(spaces.parent))} - {0}, key=lambda i: spaces.spaces[i].key
        )
        for root in roots:
            space = spaces.spaces[root]
            if space.members and space.created and space.split is None and space.size > 1:
                name = f"P_{len(groups)}"
                groups[name] = [
                    (p, a) if outer == inner == 1 else (p, a, (outer, inner))
                    for p, a, outer, inner in dict.fromkeys(space.members)
                ]
                sizes[name] = space.size
        return PermutationSpec(groups, sizes)


# ---------------------------------------------------------------- module rules (the built-in layers)


def _bias(module, name: str) -> list[str]:
    return [f"{name}.bias"] if getattr(module, "bias", None) is not None else []


@register_permutation_rule(nn.Linear)
def _linear(tracer, node, m, name, x):
    s = tracer.opened(m.out_features, f"{name}.weight", *_bias(m, name))
    tracer.follow(x[-1], f"{name}.weight", 1)
    return x[:-1] + (((s, m.out_features),) if m.out_features > 1 else (),)


@register_permutation_rule(nn.Conv1d, nn.Conv2d, LocallyConnected2d)
def _convolution(tracer, node, m, name, x):
    groups = getattr(m, "groups", 1)
    bias = _bias(m, name)
    if groups == 1:
        channels = m.weight.shape[0]
        channel_axis = ((tracer.opened(channels, f"{name}.weight", *bias), channels),)
        tracer.follow(x[1], f"{name}.weight", 1)
    elif groups == m.in_channels and m.out_channels % groups == 0:
        # depthwise: output channel c * m + j filters input channel c alone, so the input's permutation acts
        # on the output in blocks of the multiplier m
        channel_axis = tracer.spaces.axis(x[1] + tracer.fixed((m.out_channels // groups,))[0])
        for p in (f"{name}.weight", *bias):
            tracer.follow(channel_axis, p, 0)
    else:
        raise tracer.unsupported(node, "grouped convolutions with several channels per group")
    out = list(tracer.fixed(tracer.shape(node)))
    out[1] = channel_axis
    return tuple(out)


@register_permutation_rule(ChannelLinear)
def _channel_linear(tracer, node, m, name, x):
    channels = m.weight.shape[0]
    s = tracer.opened(channels, f"{name}.weight", f"{name}.bias")
    tracer.follow(x[1], f"{name}.weight", 1)
    return (tracer.fixed(tracer.shape(node))[0], ((s, channels),))


@register_permutation_rule(nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm)
def _normalization(tracer, node, m, name, x):
    if isinstance(m, nn.LayerNorm) and len(m.normalized_shape) != 1:
        raise tracer.unsupported(node, "layer norm over more than the channel axis")
    if isinstance(m, nn.GroupNorm) and m.num_groups not in (1, m.num_channels):
        raise tracer.unsupported(node, "group norm with groups of several channels mixes them")
    axis = x[-1] if isinstance(m, nn.LayerNorm) else x[1]
    for p in ("weight", "bias", "running_mean", "running_var"):
        if getattr(m, p, None) is not None:
            tracer.follow(axis, f"{name}.{p}", 0)
    return x


@register_permutation_rule(nn.Embedding)
def _embedding(tracer, node, m, name, x):
    s = tracer.spaces.new(m.embedding_dim)
    tracer.spaces.attach(s, (f"{name}.weight", 1, 1, 1))
    return x + (((s, m.embedding_dim),),)


@register_permutation_rule(*_ELEMENTWISE_MODULES)
def _elementwise_module(tracer, node, m, name, x):
    return tracer.per_channel(node, x)


@register_permutation_rule(nn.Flatten, nn.Unflatten)
def _flatten_module(tracer, node, m, name, x):
    return tracer.reshaped(node, node.all_input_nodes[0])


@register_permutation_rule(nn.MultiheadAttention)
def _attention(tracer, node, m: nn.MultiheadAttention, name: str, inputs: list) -> list:
    """``nn.MultiheadAttention``: queries, keys and values enter through one ``in_proj_weight`` (their
    embedding axes are one space); the heads (rows laid out as (3, heads, head dim)) are one permutation,
    the dimensions within a head (the same for query, key and value, so scores and outputs only move)
    another, acting on ``out_proj``'s columns laid out as (heads, head dim); ``out_proj`` opens the output."""
    spaces = tracer.spaces
    if not m._qkv_same_embed_dim or m.bias_k is not None:
        raise tracer.unsupported(node, "attention with separate key/value sizes or added key/value biases")
    if len(inputs) < 3:
        raise tracer.unsupported(node, "attention called without query, key and value")
    query, key, value = inputs
    tracer.join(query[-1], key[-1], node)
    tracer.join(query[-1], value[-1], node)
    tracer.follow(query[-1], f"{name}.in_proj_weight", 1)
    heads, width = m.num_heads, m.head_dim
    qkv = ["in_proj_weight"] + (["in_proj_bias"] if m.in_proj_bias is not None else [])
    for size, (outer, inner), (out_outer, out_inner) in (
        (heads, (3, width), (1, width)),
        (width, (3 * heads, 1), (heads, 1)),
    ):
        s = spaces.new(size)
        for p in qkv:
            spaces.attach(s, (f"{name}.{p}", 0, outer, inner))
        spaces.attach(s, (f"{name}.out_proj.weight", 1, out_outer, out_inner))
    out = spaces.new(m.embed_dim)
    for p in ("weight", "bias"):
        if getattr(m.out_proj, p) is not None:
            spaces.attach(out, (f"{name}.out_proj.{p}", 0, 1, 1))
    meta = node.meta.get("tensor_meta")
    weights = meta[1] if isinstance(meta, tuple | list) and len(meta) > 1 else None
    weights_axes = None
    if weights is not None and hasattr(weights, "shape"):
        weights_axes = tuple(((0, int(n)),) if n > 1 else () for n in weights.shape)
    return [tuple(spaces.axis(a) for a in query[:-1]) + (((out, m.embed_dim),),), weights_axes]


# ---------------------------------------------------------------- function and method rules


def _elementwise(tracer, node, tensors):
    return tracer.per_channel(node, tracer.axes(node.args[0]))


def _merging(tracer, node, tensors):
    return tracer.broadcast(node, tensors)


def _scaling(tracer, node, tensors):  # by a scalar; between tensors it is elementwise
    return tracer.broadcast(node, tensors) if len(tensors) > 1 else tracer.axes(tensors[0])


def _reshaping(tracer, node, tensors):
    return tracer.reshaped(node, node.args[0])


def _transpose(tracer, node, tensors):
    x = list(tracer.axes(node.args[0]))
    i, j = (a % len(x) for a in node.args[1:3])
    x[i], x[j] = x[j], x[i]
    return tuple(x)


def _permute(tracer, node, tensors):
    order = node.args[1] if isinstance(node.args[1], tuple | list) else node.args[1:]
    x = tracer.axes(node.args[0])
    return tuple(x[a % len(x)] for a in order)


def _expand(tracer, node, tensors):
    x, out = tracer.axes(node.args[0]), tracer.shape(node)
    x = ((),) * (len(out) - len(x)) + x
    return tuple(a if a else tracer.fixed((n,))[0] for a, n in zip(x, out, strict=True))


def _matmul(tracer, node, tensors):
    a, b = tracer.axes(node.args[0]), tracer.axes(node.args[1])
    if len(a) < 2 or len(b) < 2:
        raise tracer.unsupported(node, "products with vectors")
    tracer.join(a[-1], b[-2], node)  # the contracted axis is permuted alike on both sides
    batch = len(tracer.shape(node)) - 2
    out = list(tracer.fixed(tracer.shape(node)[:batch]))
    for position in range(1, batch + 1):
        present = [x[-2 - position] for x in (a, b) if len(x) >= 2 + position and x[-2 - position]]
        for other in present[1:]:
            tracer.join(present[0], other, node)
        if present:
            out[-position] = present[0]
    return tuple(tracer.spaces.axis(x) for x in (*out, a[-2], b[-1]))


def _reduce(tracer, node, tensors):
    """A mean or sum over some axes is invariant to permutations along them."""
    x = tracer.axes(node.args[0])
    axes = tracer.arg(node, 1, "dim")
    if axes is None:
        return tracer.fixed(tracer.shape(node))
    axes = {a % len(x) for a in ((axes,) if isinstance(axes, int) else axes)}
    keep = tracer.arg(node, 2, "keepdim", False)
    return tuple(() if i in axes else a for i, a in enumerate(x) if keep or i not in axes)


def _concatenate(tracer, node, tensors):
    parts = list(node.args[0])
    at = tracer.arg(node, 1, "dim", 0) % len(tracer.shape(node))
    if not all(all(s == 0 for s, _ in tracer.axes(p)[at]) for p in parts):
        raise tracer.unsupported(node, "concatenation along a permuted channel axis")
    out = list(tracer.axes(parts[0]))
    for axis in range(len(out)):
        for other in parts[1:]:
            if axis != at:
                tracer.join(out[axis], tracer.axes(other)[axis], node)
    out[at] = tracer.fixed((tracer.shape(node)[at],))[0]
    return tuple(tracer.spaces.axis(a) for a in out)


def _index(tracer, node, tensors):
    """``x[...]`` with integers, slices, ``None`` and ``...``: only unpermuted axes may be cut."""
    x, index = list(tracer.axes(node.args[0])), node.args[1]
    index = index if isinstance(index, tuple) else (index,)
    if any(i is Ellipsis for i in index):
        at = index.index(Ellipsis)
        named = sum(i is not None for i in index) - 1
        index = index[:at] + (slice(None),) * (len(x) - named) + index[at + 1 :]
    out, position = [], 0
    for i in index:
        if i is None:
            out.append(())
            continue
        axis = x[position]
        position += 1
        if isinstance(i, slice) and i == slice(None):
            out.append(axis)
        elif isinstance(i, int | slice) and all(s == 0 for s, _ in axis):
            if isinstance(i, slice):
                out.append(None)  # its size comes from the output shape
        else:
            raise tracer.unsupported(node, "indexing along a permuted channel axis")
    out += x[position:]
    sizes = tracer.shape(node)
    return tuple(tracer.fixed((n,))[0] if a is None else a for a, n in zip(out, sizes, strict=True))


def _unfold(tracer, node, tensors):
    x, out = tracer.axes(node.args[0]), tracer.shape(node)  # (N, C, H, W) -> (N, C k k, L): channel blocks
    if any(s != 0 for axis in x[2:] for s, _ in axis):
        raise tracer.unsupported(node, "unfolding along a permuted axis")
    window = tracer.fixed((out[1] // tracer.shape(node.args[0])[1],))[0]
    return (x[0], tracer.spaces.axis(x[1] + window), tracer.fixed((out[2],))[0])


#: function or method-name target -> rule ``(tracer, node, tensor inputs) -> output axes``
_FUNCTION_RULES: dict = {
    **dict.fromkeys(_ELEMENTWISE_FUNCTIONS | _ELEMENTWISE_METHODS, _elementwise),
    **dict.fromkeys(_MERGING, _merging),
    **dict.fromkeys(_SCALING, _scaling),
    **dict.fromkeys(_RESHAPING, _reshaping),
    **dict.fromkeys((torch.transpose, "transpose", "swapaxes"), _transpose),
    **dict.fromkeys((torch.permute, "permute"), _permute),
    **dict.fromkeys(("expand", "expand_as"), _expand),
    **dict.fromkeys(_MATMUL, _matmul),
    **dict.fromkeys(_REDUCING, _reduce),
    **dict.fromkeys((torch.cat, torch.concat), _concatenate),
    operator.getitem: _index,
    nn.functional.unfold: _unfold,
}


def trace_permutation_spec(model: nn.Module, example_input: torch.Tensor) -> PermutationSpec:
    """The permutation spec of ``model``, derived from its traced graph (see the module docstring).

    Parameters
    ----------
    model : torch.nn.Module
        Any network. Its graph comes from torch.fx's symbolic trace, or where that fails (Python
        control flow on shapes: ``if x.dim() == 3``, loops over ``x.shape[1]``) from torch.export
        run on ``example_input`` (:func:`lmctheory.nn.exported_graph`). Control flow on tensor values
        defeats both. Layers of types the tracer does not know can be taught with
        :func:`lmctheory.nn.register_permutation_rule`.
    example_input : torch.Tensor
        One batch of inputs, for the shapes.

    Returns
    -------
    PermutationSpec
        ``{"P_0": [(name, axis), ...], ...}`` in forward order, with ``sizes`` and ``describe()``.

    Raises
    ------
    NotImplementedError
        An operation it cannot permute through (named in the message), or a forward neither torch.fx
        nor torch.export can trace (both reasons in the message).
    ValueError
        Residual additions of tensors with different channel counts.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import MLP
    >>> from lmctheory.nn import trace_permutation_spec
    >>> spec = trace_permutation_spec(MLP([4, 8, 3]), torch.randn(2, 4))
    >>> print(spec.describe())
    P_0 (8 units): layers.0.weight[axis 0], layers.0.bias[axis 0], layers.1.weight[axis 1]
    """
    try:
        graph = _Tracer().trace(model)
    except Exception as fx_error:  # torch.fx raises many kinds (TraceError, TypeError, ...)
        from ._tracing_export import exported_graph

        try:  # torch.export runs forward on the example input: shape-dependent control flow is fine
            graph = exported_graph(model, example_input)
        except Exception as export_error:
            first = lambda err: (str(err).strip().splitlines() or [type(err).__name__])[0]  # noqa: E731
            raise NotImplementedError(
                f"cannot trace {type(model).__name__}: torch.fx: {first(fx_error)}; "
                f"torch.export: {first(export_error)}"
            ) from export_error
    module = torch.fx.GraphModule(model, graph)
    modes = {m: m.training for m in model.modules()}
    try:  # in eval mode: the shapes are the same and batch norm's running statistics are left alone
        model.eval()
        with torch.no_grad():
            ShapeProp(module).propagate(example_input)
    finally:
        for m, training in modes.items():
            m.training = training
    return PermutationTracer(model, graph).run()
