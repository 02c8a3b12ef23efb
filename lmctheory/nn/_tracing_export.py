"""The tracer's fallback where torch.fx fails: a torch.export graph rewritten at module level.

torch.fx traces ``forward`` symbolically and stops at Python control flow that reads a tensor's shape
or dimension (``if x.dim() == 3``, ``for i in range(x.shape[1])``, ``assert x.shape[-1] == ...``).
torch.export runs ``forward`` on the example input (fake tensors: no real computation, no state
change) and records the ATen operations it calls, specialised to that input's shapes; control flow on
tensor *values* still fails there (the error names both attempts). Its graph has the parameters as
inputs and operations such as ``aten.linear(x, weight, bias)``; :func:`exported_graph` rewrites it into
the graph :func:`lmctheory.nn.trace_permutation_spec` reads:

- a linear, convolution, batch/layer/group norm or embedding operation run by a torch module of that
  kind on its own weight becomes a call of that module (the module's permutation rules apply);
- the other ATen operations become their torch equivalents (``aten.relu`` -> ``torch.relu``,
  ``aten.select``/``aten.slice`` -> indexing, ``aten.t`` -> a transpose, ...), so that the same
  table of supported operations applies, and an operation outside it is named in the same error;
- a parameter read by anything else (a class token, a positional embedding) becomes a ``get_attr``.

The operations of a call of a leaf layer registered outside torch (lmctheory's own ``ChannelLinear``,
``LocallyConnected2d`` and users' layers, :func:`lmctheory.nn.register_permutation_rule`) are gathered back
into one call of the layer. ``nn.MultiheadAttention`` is a
leaf for torch.fx but cannot be gathered back here (which of its inputs is the query, the key or the
value is lost), so a model torch.fx cannot trace that contains one is refused with a one-line error.
"""

from __future__ import annotations

import operator

import torch
from torch import nn

from ._permutation_rules import custom_leaf_types

__all__ = ["exported_graph"]

aten = torch.ops.aten
F = nn.functional

# op -> (module kinds that run it, position of the input tensor, position of the weight)
_MODULE_OPS = {
    aten.linear.default: ((nn.Linear,), 0, 1),
    aten.conv1d.default: ((nn.Conv1d,), 0, 1),
    aten.conv2d.default: ((nn.Conv2d,), 0, 1),
    aten.batch_norm.default: ((nn.BatchNorm1d, nn.BatchNorm2d), 0, 1),
    aten.layer_norm.default: ((nn.LayerNorm,), 0, 2),
    aten.group_norm.default: ((nn.GroupNorm,), 0, 2),
    aten.embedding.default: ((nn.Embedding,), 1, 0),
}
# ATen op -> (torch function or method name, how many leading arguments it keeps; None: all)
_FUNCTIONS = {
    aten.relu.default: (torch.relu, None),
    aten.relu_.default: (torch.relu, None),
    aten.tanh.default: (torch.tanh, None),
    aten.sigmoid.default: (torch.sigmoid, None),
    aten.exp.default: (torch.exp, None),
    aten.gelu.default: (F.gelu, 1),
    aten.silu.default: (F.silu, 1),
    aten.silu_.default: (F.silu, 1),
    aten.elu.default: (F.elu, 1),
    aten.leaky_relu.default: (F.leaky_relu, 1),
    aten.leaky_relu_.default: (F.leaky_relu, 1),
    aten.dropout.default: (F.dropout, 1),
    aten.max_pool2d.default: (F.max_pool2d, None),
    aten.avg_pool2d.default: (F.avg_pool2d, None),
    aten.adaptive_avg_pool2d.default: (F.adaptive_avg_pool2d, None),
    aten.softmax.int: (torch.softmax, 2),
    aten._softmax.default: (torch.softmax, 2),
    aten.log_softmax.int: (F.log_softmax, 2),
    aten._log_softmax.default: (F.log_softmax, 2),
    aten.add.Tensor: (torch.add, None),
    aten.add_.Tensor: (torch.add, None),
    aten.sub.Tensor: (torch.sub, None),
    aten.sub_.Tensor: (torch.sub, None),
    aten.mul.Tensor: (torch.mul, None),
    aten.mul_.Tensor: (torch.mul, None),
    aten.div.Tensor: (operator.truediv, None),
    aten.view.default: (torch.reshape, None),
    aten.reshape.default: (torch.reshape, None),
    aten._unsafe_view.default: (torch.reshape, None),
    aten.flatten.using_ints: (torch.flatten, None),
    aten.unsqueeze.default: (torch.unsqueeze, None),
    aten.squeeze.dim: (torch.squeeze, None),
    aten.squeeze.dims: (torch.squeeze, None),
    aten.permute.default: (torch.permute, None),
    aten.transpose.int: (torch.transpose, None),
    aten.matmul.default: (torch.matmul, None),
    aten.mm.default: (torch.matmul, None),
    aten.bmm.default: (torch.bmm, None),
    aten.mean.dim: (torch.mean, None),
    aten.sum.dim_IntList: (torch.sum, None),
    aten.cat.default: (torch.cat, None),
    aten.im2col.default: (F.unfold, None),  # same argument order
    aten.expand.default: ("expand", 2),
    aten.clone.default: ("clone", 1),
    aten.alias.default: ("clone", 1),
    aten.detach.default: ("clone", 1),
    aten._to_copy.default: ("clone", 1),
}


def exported_graph(model: nn.Module, example_input: torch.Tensor) -> torch.fx.Graph:
    """``model``'s forward on ``example_input`` from torch.export, as a module-level fx graph.

    Parameters
    ----------
    model : torch.nn.Module
        The network (its state is not changed: torch.export runs it on fake tensors).
    example_input : torch.Tensor
        One batch of inputs; the graph is specialised to its shapes.

    Returns
    -------
    torch.fx.Graph
        Its ``call_module`` and ``get_attr`` targets are ``model``'s own submodules and parameters,
        so ``torch.fx.GraphModule(model, graph)`` runs it on inputs of those shapes.

    Raises
    ------
    NotImplementedError
        ``nn.MultiheadAttention`` in the model, or a built-in leaf layer whose call cannot be gathered.
    Exception
        Whatever torch.export raises, e.g. on control flow that reads tensor values.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from lmctheory.nn import exported_graph
    >>> class Net(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc = nn.Linear(3, 2)
    ...     def forward(self, x):
    ...         return self.fc(x.unsqueeze(0) if x.dim() == 1 else x)  # torch.fx cannot trace this
    >>> graph = exported_graph(Net(), torch.zeros(4, 3))
    >>> [node.target for node in graph.nodes if node.op == "call_module"]
    ['fc']
    """
    program = torch.export.export(model, (example_input,), strict=False)
    signature = program.graph_signature
    owned = {**signature.inputs_to_parameters, **signature.inputs_to_buffers}  # placeholder -> name
    modules = dict(model.named_modules())
    graph, new = torch.fx.Graph(), {}

    def value(arg):
        """The new graph's counterpart of an argument (nodes mapped, containers mapped inside)."""
        if isinstance(arg, torch.fx.Node):
            if arg not in new and arg.name in owned:  # a parameter read outside its module's op
                new[arg] = graph.get_attr(owned[arg.name])
            return new[arg]
        if isinstance(arg, tuple | list):
            return type(arg)(value(a) for a in arg)
        return arg

    def copy_meta(node, source) -> torch.fx.Node:
        stack = source.meta.get("nn_module_stack") or {}
        node.meta["nn_module_stack"] = {path: kind for path, kind in stack.values() if path}
        return node

    run: list = []  # the operations of the current call of a leaf layer: (key, path, nodes)

    def close_run() -> None:
        """One ``call_module`` of the leaf for its gathered operations; each maps to its output."""
        if not run:
            return
        (_, path, nodes) = run.pop()
        inside = set(nodes)
        external = list(
            dict.fromkeys(a for n in nodes for a in _node_args(n) if a not in inside and a.name not in owned)
        )
        if len(external) != 1:
            raise NotImplementedError(f"cannot gather the call of {path!r} back into one layer call")
        call = copy_meta(graph.call_module(path, (value(external[0]),)), nodes[0])
        new.update(dict.fromkeys(nodes, call))

    for node in program.graph.nodes:
        leaf = _leaf(node, modules) if node.op == "call_function" else None
        if leaf is not None:
            if not run or run[0][0] != leaf[0]:
                close_run()
                run.append((*leaf, []))
            run[0][2].append(node)
            continue
        close_run()
        if node.op == "placeholder":
            if node.name not in owned:
                new[node] = graph.placeholder(node.name)
        elif node.op == "output":
            outputs = {spec.arg.name for spec in signature.output_specs if spec.kind.name == "USER_OUTPUT"}
            (results,) = node.args
            graph.output(
                tuple(value(r) for r in results if isinstance(r, torch.fx.Node) and r.name in outputs)
            )
        elif node.target in _MODULE_OPS and (path := _owner(node, owned, modules)) is not None:
            x = node.args[_MODULE_OPS[node.target][1]]
            new[node] = copy_meta(graph.call_module(path, (value(x),)), node)
        elif node.target is aten.t.default:
            new[node] = copy_meta(graph.call_function(torch.transpose, (value(node.args[0]), 0, 1)), node)
        elif node.target in (aten.select.int, aten.slice.Tensor):
            new[node] = copy_meta(graph.call_function(operator.getitem, _index(node, value)), node)
        elif node.target in _FUNCTIONS:
            target, keep = _FUNCTIONS[node.target]
            args = value(node.args if keep is None else node.args[:keep])
            kwargs = value(dict(node.kwargs)) if keep is None else {}
            call = graph.call_method if isinstance(target, str) else graph.call_function
            new[node] = copy_meta(call(target, args, kwargs), node)
        else:  # anything else keeps its ATen op: the tracer names it in its error if it is a tensor op
            new[node] = copy_meta(
                graph.call_function(node.target, value(node.args), value(dict(node.kwargs))), node
            )
    return graph


def _node_args(node) -> list:
    """The graph nodes among ``node``'s arguments, inside lists too."""
    found: list = []
    torch.fx.node.map_arg((node.args, node.kwargs), found.append)
    return found


def _leaf(node, modules: dict) -> tuple[str, str] | None:
    """(stack key, path) of the outermost leaf layer whose call runs ``node``, else None."""
    for key, (path, _) in (node.meta.get("nn_module_stack") or {}).items():
        module = modules.get(path)
        if isinstance(module, nn.MultiheadAttention):
            raise NotImplementedError(
                f"nn.MultiheadAttention {path!r} cannot be followed in torch.export's graph "
                "(its query, key and value are not told apart there)"
            )
        if isinstance(module, custom_leaf_types()):  # one input, one output
            return key, path
    return None


def _owner(node, owned: dict, modules: dict) -> str | None:
    """The path of the torch module that runs ``node`` on its own weight, else None."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return None
    path, _ = list(stack.values())[-1]
    module = modules.get(path)
    kinds, _, weight_at = _MODULE_OPS[node.target]
    if not isinstance(module, kinds):
        return None
    weight = node.args[weight_at] if len(node.args) > weight_at else None
    expected = f"{path}.weight" if getattr(module, "weight", None) is not None else None
    found = owned.get(weight.name) if isinstance(weight, torch.fx.Node) else None
    return path if found == expected else None


def _index(node, value) -> tuple:
    """``aten.select(x, dim, i)`` / ``aten.slice(x, dim, start, end, step)`` as ``x[..., i]``."""
    x, dim, *rest = list(node.args) + [0] * (len(node.args) < 2)  # aten.slice's dim defaults to 0
    dim %= len(x.meta["val"].shape)
    if node.target is aten.select.int:
        item = rest[0]
    else:
        start, end, step = (rest + [None, None, 1][len(rest) :])[:3]
        item = slice(start, end, step)
    return value(x), (slice(None),) * dim + (item,)
