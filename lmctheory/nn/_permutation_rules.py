"""The tracer's rule table for module types: how a layer's parameters follow the permutations of its input
and output channels. Built-in layers and users' own register the same way, with
:func:`register_permutation_rule`; the tracer (:func:`lmctheory.nn.trace_permutation_spec`) looks a module up
by its type's method resolution order, so a rule covers subclasses too.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

__all__ = ["register_permutation_rule", "permutation_rule"]

#: layer type -> rule ``(tracer, node, module, name, x) -> axes of the output``
_MODULE_RULES: dict[type, Callable] = {}


def register_permutation_rule(*layer_types: type):
    """Teach the permutation tracer a layer: a decorator for a rule
    ``rule(tracer, node, module, name, x) -> output axes``.

    ``x`` holds the axes of the layer's input (one entry per tensor axis; see :class:`PermutationTracer`),
    ``name`` is the module's qualified name in the model. The rule says which parameter axes follow which
    channel space (``tracer.opened(size, *params)`` opens the layer's output space on axis 0 of ``params``;
    ``tracer.follow(axis, param, param_axis)`` makes a parameter axis follow an input axis) and returns the
    output's axes (``tracer.fixed(sizes)`` for axes no permutation acts on). A registered layer is a leaf of
    the trace: its forward is not traced through. The built-in custom layers (``ChannelLinear``,
    ``LocallyConnected2d``) are registered with this decorator, as a user's layer would be.

    Parameters
    ----------
    *layer_types : type
        ``nn.Module`` subclasses the rule applies to (and their subclasses, unless they have their own).

    Returns
    -------
    callable
        The decorator; it returns the rule unchanged.

    Raises
    ------
    TypeError
        No layer type, or one that is not an ``nn.Module`` subclass.

    Examples
    --------
    A layer that scales each channel by a learned factor keeps its input's channels:

    >>> import torch
    >>> from torch import nn
    >>> from lmctheory.nn import register_permutation_rule, trace_permutation_spec
    >>> class Scale(nn.Module):
    ...     def __init__(self, n):
    ...         super().__init__()
    ...         self.gain = nn.Parameter(torch.ones(n))
    ...     def forward(self, x):
    ...         return x * self.gain
    >>> @register_permutation_rule(Scale)
    ... def _scale(tracer, node, module, name, x):
    ...     tracer.follow(x[-1], f"{name}.gain", 0)
    ...     return x
    >>> net = nn.Sequential(nn.Linear(3, 4), Scale(4), nn.Linear(4, 2))
    >>> print(trace_permutation_spec(net, torch.zeros(1, 3)).describe())
    P_0 (4 units): 0.weight[axis 0], 0.bias[axis 0], 1.gain[axis 0], 2.weight[axis 1]
    """
    if not layer_types or not all(isinstance(t, type) and issubclass(t, nn.Module) for t in layer_types):
        raise TypeError(f"register_permutation_rule needs nn.Module subclasses, got {layer_types!r}")

    def decorator(rule: Callable) -> Callable:
        for layer_type in layer_types:
            _MODULE_RULES[layer_type] = rule
        return rule

    return decorator


def permutation_rule(module: nn.Module) -> Callable | None:
    """The rule registered for ``module``'s type or its nearest registered base class, else None.

    Parameters
    ----------
    module : torch.nn.Module
        A layer.

    Returns
    -------
    callable or None
        Its rule.

    Raises
    ------
    None
        Any object is looked up (an unregistered one gives None).

    Examples
    --------
    >>> from torch import nn
    >>> from lmctheory.nn import permutation_rule
    >>> permutation_rule(nn.Linear(2, 3)) is not None, permutation_rule(nn.Module())
    (True, None)
    """
    for kind in type(module).__mro__:
        if kind in _MODULE_RULES:
            return _MODULE_RULES[kind]
    return None


def custom_leaf_types() -> tuple[type, ...]:
    """Registered layer types outside torch (lmctheory's own and users'): one input, one output; torch.export's
    graph of their call is gathered back into one call."""
    return tuple(t for t in _MODULE_RULES if not t.__module__.startswith("torch."))
