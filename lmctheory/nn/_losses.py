"""The loss, defined once for training and for the evaluation of paths: cross-entropy for class labels,
squared error summed over the outputs for float targets."""

from __future__ import annotations

import torch

__all__ = ["loss_kind", "per_example_loss", "mean_loss"]


def per_example_loss(kind: str, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of each example at each t: outputs of shape (T, n, ...) give losses of shape (T, n).

    The one definition of the loss, for training (:func:`train`, as the mean over a batch) and for the
    evaluation of paths (:func:`lmctheory.lmc.evaluate_path`): cross-entropy for class labels, squared
    error summed over the outputs for float targets.

    Parameters
    ----------
    kind : {"cross_entropy", "mse"}
        The loss.
    outputs : torch.Tensor, shape (T, n, ...)
        Network outputs at T values of t (classes last for cross-entropy).
    y : torch.Tensor
        Class labels of shape (n,) (cross-entropy) or targets of shape (n, ...) (squared error).

    Returns
    -------
    torch.Tensor, shape (T, n)
        The losses.

    Raises
    ------
    IndexError
        Labels outside the classes (torch's error).
    RuntimeError
        Targets whose shape does not match the outputs (torch's error).

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import per_example_loss
    >>> per_example_loss("mse", torch.ones(2, 3, 1), torch.zeros(3, 1)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    >>> per_example_loss("mse", torch.ones(1, 2), torch.zeros(2)).tolist()  # scalar outputs without an axis
    [[1.0, 1.0]]
    """
    steps, n = outputs.shape[:2]
    if kind == "cross_entropy":
        return torch.nn.functional.cross_entropy(
            outputs.flatten(0, 1), y.repeat(steps), reduction="none"
        ).view(steps, n)
    return ((outputs - y.reshape(1, n, *outputs.shape[2:])) ** 2).reshape(steps, n, -1).sum(-1)


def loss_kind(y, loss: str) -> str:
    """The loss of a path's evaluation: ``loss`` itself, or for ``"auto"`` the mean squared error on
    floating-point targets and the cross-entropy on class labels.

    Parameters
    ----------
    y : torch.Tensor
        The targets.
    loss : {"auto", "cross_entropy", "mse"}
        The loss asked for.

    Returns
    -------
    str
        ``"cross_entropy"`` or ``"mse"``.

    Raises
    ------
    ValueError
        An unknown ``loss``.

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import loss_kind
    >>> loss_kind(torch.tensor([0, 2]), "auto"), loss_kind(torch.tensor([0.5]), "auto")
    ('cross_entropy', 'mse')
    """
    if loss != "auto":
        if loss not in ("cross_entropy", "mse"):
            raise ValueError(f"loss must be 'auto', 'cross_entropy' or 'mse', got {loss!r}")
        return loss
    return "mse" if y.is_floating_point() else "cross_entropy"


def mean_loss(kind: str, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean of :func:`per_example_loss` over a batch: what training minimises.

    Parameters
    ----------
    kind : {"cross_entropy", "mse"}
        The loss (:func:`loss_kind`).
    outputs : torch.Tensor, shape (n, ...)
        One network's outputs.
    y : torch.Tensor
        Labels (n,) or targets (n, ...).

    Returns
    -------
    torch.Tensor
        A scalar.

    Raises
    ------
    IndexError
        Labels outside the classes (torch's error).
    RuntimeError
        Targets whose shape does not match the outputs (torch's error).

    Examples
    --------
    >>> import torch
    >>> from lmctheory.nn import mean_loss
    >>> float(mean_loss("mse", torch.tensor([[1.0], [3.0]]), torch.tensor([0.0, 0.0])))
    5.0
    """
    return per_example_loss(kind, outputs.unsqueeze(0), y)[0].mean()
