"""Permutation specs of arbitrary ``nn.Module`` networks, derived by tracing (torch.fx).

A permutation spec says which parameter axes one re-indexing of hidden units touches:
``{name: [(parameter or buffer name, axis), ...]}`` (the format of the built-in models'
``permutation_spec()`` and of :func:`lmctheory.align.apply_permutation`). :func:`trace_permutation_spec`
derives it from the computation graph: every layer that creates channels (``nn.Linear``,
``nn.Conv1d/2d``, the built-in locally connected and channel-linear layers) opens a channel space; a
space flows unchanged through elementwise activations, dropout, pooling, batch norm (whose affine
parameters and running statistics follow it), layer norm over the channel axis and flattening of
1 x 1 maps; adding tensors (a residual connection) merges their spaces into one permutation; the
consumer's input axis joins its input's space. Spaces joined with the network's input or output are
not permuted. An operation the tracer cannot permute raises one error naming it.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import torch
import torch.fx
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from .nn.models import ChannelLinear, LocallyConnected2d

__all__ = ["PermutationSpec", "trace_permutation_spec"]

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
_ELEMENTWISE_METHODS = {"relu", "relu_", "tanh", "sigmoid", "contiguous", "clone", "float", "double"}
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
    >>> from lmctheory.tracing import PermutationSpec
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
    members: list


class _Spaces:
    """Union-find over channel spaces; space 0 is the fixed one (network input and output)."""

    def __init__(self):
        self.parent = [0]
        self.spaces = [_Space(-1, [])]

    def new(self, size: int) -> int:
        self.parent.append(len(self.parent))
        self.spaces.append(_Space(size, []))
        return len(self.parent) - 1

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int, where: str) -> int:
        i, j = self.find(i), self.find(j)
        if i == j:
            return i
        if 0 in (i, j):  # joining the fixed space fixes the other
            keep, drop = (i, j) if i == 0 else (j, i)
        else:
            if self.spaces[i].size != self.spaces[j].size:
                raise ValueError(
                    f"{where}: adds tensors of {self.spaces[i].size} and {self.spaces[j].size} channels"
                )
            keep, drop = min(i, j), max(i, j)  # the earlier space (forward order) names the union
        self.parent[drop] = keep
        self.spaces[keep].members += self.spaces[drop].members
        return keep

    def add(self, i: int, param: str, axis: int, layout=None) -> None:
        self.spaces[self.find(i)].members.append((param, axis) if layout is None else (param, axis, layout))


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
    """Treats the built-in locally connected and channel-linear layers as leaves."""

    def is_leaf_module(self, m, qualname) -> bool:
        return isinstance(m, LocallyConnected2d | ChannelLinear) or super().is_leaf_module(m, qualname)


def trace_permutation_spec(model: nn.Module, example_input: torch.Tensor) -> PermutationSpec:
    """The permutation spec of ``model``, derived from its traced graph (see the module docstring).

    Parameters
    ----------
    model : torch.nn.Module
        A network whose ``forward`` torch.fx can trace symbolically (no data-dependent control flow).
    example_input : torch.Tensor
        One batch of inputs, for the shapes.

    Returns
    -------
    PermutationSpec
        ``{"P_0": [(name, axis), ...], ...}`` in forward order, with ``sizes`` and ``describe()``.

    Raises
    ------
    NotImplementedError
        An operation it cannot permute through (named in the message), or a graph torch.fx cannot trace.
    ValueError
        Residual additions of tensors with different channel counts.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn.models import MLP
    >>> from lmctheory.tracing import trace_permutation_spec
    >>> spec = trace_permutation_spec(MLP([4, 8, 3]), torch.randn(2, 4))
    >>> print(spec.describe())
    P_0 (8 units): layers.0.weight[axis 0], layers.0.bias[axis 0], layers.1.weight[axis 1]
    """
    try:
        graph = _Tracer().trace(model)
    except Exception as err:  # torch.fx raises many kinds (TraceError, TypeError, ...)
        raise NotImplementedError(f"torch.fx cannot trace {type(model).__name__}: {err}") from err
    module = torch.fx.GraphModule(model, graph)
    with torch.no_grad():
        ShapeProp(module).propagate(example_input)
    spaces = _Spaces()
    # node -> (space, channel axis, block) for tensors, None for non-tensors; block > 1 after flattening a
    # (N, C, H, W) map: channel c then owns features c * block ... (c + 1) * block - 1
    space_of: dict = {}
    modules = dict(model.named_modules())

    def shape(node):
        meta = node.meta.get("tensor_meta")
        return tuple(meta.shape) if meta is not None and hasattr(meta, "shape") else None

    def channel_space(node, axis: int, user) -> int:
        """The space of ``node`` along ``axis`` (1: channels of a map, -1: features)."""
        space, own_axis, _ = space_of[node]
        ndim = len(shape(node))
        if space == 0 or ndim == 2 or own_axis % ndim == axis % ndim:
            return space
        raise _unsupported(user, f"channels on axis {own_axis}, used on axis {axis}")

    def add(space: int, param: str, axis: int, block: int = 1) -> None:
        """``param``'s ``axis`` follows ``space``, in blocks of ``block`` consecutive entries per channel."""
        spaces.add(space, param, axis, None if block == 1 else (1, block))

    def reshaped(node, source):
        """A flatten or reshape keeps the channel space only when it leaves (N, C) with C the channels."""
        before, after = shape(source), shape(node)
        space, axis, block = space_of[source]
        if space == 0:
            return (0, 1, 1)  # reshaping the (fixed) input
        if len(after) == 2 and len(before) == 2:
            return (space, -1, block)
        if len(after) == 2 and axis % len(before) == 1 and after[1] == math.prod(before[1:]):
            return (space, -1, block * math.prod(before[2:]))  # (N, C, H, W) -> (N, C H W): channel blocks
        raise _unsupported(node, f"reshaping {before} to {after} mixes channels and positions")

    for node in graph.nodes:
        if node.op == "placeholder":
            space_of[node] = (0, 1, 1)
        elif node.op == "output":
            for arg in node.all_input_nodes:
                if space_of.get(arg) is not None:
                    spaces.union(space_of[arg][0], 0, node.name)
        elif node.op == "get_attr":
            raise _unsupported(node, "parameters used outside their module")
        elif node.op == "call_module":
            m, name = modules[node.target], node.target
            (arg,) = node.all_input_nodes
            if isinstance(m, nn.Linear):
                s_in = channel_space(arg, -1, node)
                s_out = spaces.new(m.out_features)
                spaces.add(s_out, f"{name}.weight", 0)
                if m.bias is not None:
                    spaces.add(s_out, f"{name}.bias", 0)
                add(s_in, f"{name}.weight", 1, space_of[arg][2])
                space_of[node] = (s_out, -1, 1)
            elif isinstance(m, nn.Conv1d | nn.Conv2d | LocallyConnected2d):
                if getattr(m, "groups", 1) != 1:
                    raise _unsupported(node, "grouped convolutions")
                s_in = channel_space(arg, 1, node)
                s_out = spaces.new(m.weight.shape[0])
                spaces.add(s_out, f"{name}.weight", 0)
                if m.bias is not None:
                    spaces.add(s_out, f"{name}.bias", 0)
                spaces.add(s_in, f"{name}.weight", 1)
                space_of[node] = (s_out, 1, 1)
            elif isinstance(m, ChannelLinear):
                s_in = channel_space(arg, 1, node)
                s_out = spaces.new(m.weight.shape[0])
                spaces.add(s_out, f"{name}.weight", 0)
                spaces.add(s_out, f"{name}.bias", 0)
                spaces.add(s_in, f"{name}.weight", 1)
                space_of[node] = (s_out, -1, 1)
            elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                s = channel_space(arg, 1, node)
                for p in ("weight", "bias", "running_mean", "running_var"):
                    if getattr(m, p, None) is not None:
                        add(s, f"{name}.{p}", 0, space_of[arg][2])
                space_of[node] = space_of[arg]
            elif isinstance(m, nn.LayerNorm):
                if len(m.normalized_shape) != 1:
                    raise _unsupported(node, "layer norm over more than the channel axis")
                s = channel_space(arg, -1, node)
                for p in ("weight", "bias"):
                    if getattr(m, p, None) is not None:
                        add(s, f"{name}.{p}", 0, space_of[arg][2])
                space_of[node] = space_of[arg]
            elif isinstance(m, nn.GroupNorm):
                if m.num_groups not in (1, m.num_channels):
                    raise _unsupported(node, "group norm with groups of several channels mixes them")
                s = channel_space(arg, 1, node)
                if m.affine:
                    spaces.add(s, f"{name}.weight", 0)
                    spaces.add(s, f"{name}.bias", 0)
                space_of[node] = space_of[arg]
            elif isinstance(m, _ELEMENTWISE_MODULES):
                space_of[node] = space_of[arg]
            elif isinstance(m, nn.Flatten):
                space_of[node] = reshaped(node, arg)
            else:
                raise _unsupported(node, f"module of type {type(m).__name__}")
        else:  # call_function, call_method
            tensors = [a for a in node.all_input_nodes if space_of.get(a) is not None]
            target = node.target
            out = shape(node)
            if out is None:  # sizes, shapes, attributes: not tensors
                space_of[node] = None
            elif target in _ELEMENTWISE_FUNCTIONS or target in _ELEMENTWISE_METHODS:
                space_of[node] = space_of[tensors[0]]
            elif target in _MERGING:
                merged = tensors[0]
                s = space_of[merged][0]
                for other in tensors[1:]:
                    s = spaces.union(s, space_of[other][0], node.name)
                space_of[node] = (s, *space_of[merged][1:])
            elif target in _SCALING and len(tensors) == 1:
                space_of[node] = space_of[tensors[0]]
            elif target in (torch.flatten, "flatten", "view", "reshape"):
                space_of[node] = reshaped(node, tensors[0])
            else:
                raise _unsupported(node)
    groups, sizes = {}, {}
    roots = sorted({spaces.find(i) for i in range(1, len(spaces.parent))} - {0})
    for root in roots:
        space = spaces.spaces[root]
        if space.members:
            name = f"P_{len(groups)}"
            groups[name], sizes[name] = list(space.members), space.size
    return PermutationSpec(groups, sizes)
