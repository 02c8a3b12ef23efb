"""Small networks: models, data, training and their operator sequences (needs the ``[nn]`` extra).

Models (:class:`MLP`, :class:`CNN`, :class:`LCN`, :class:`AttentionNet`, :class:`MeanFieldTwoLayer`, the
zoo's :class:`VGG`, :class:`ResNet20`, :class:`ViT`), offline data sets (:func:`load_dataset`), seeded
training (:func:`train`, :func:`train_pair`, :func:`train_ensemble`, :func:`train_online`) and the
operator sequences that evaluation along a path uses (:func:`network_ops`, :func:`register_ops`).
"""

try:  # the models, training and paths need PyTorch, an optional dependency
    import torch  # noqa: F401
except ModuleNotFoundError:  # pragma: no cover - exercised by the torch-free wheel test
    raise ModuleNotFoundError("lmctheory.nn needs PyTorch: pip install 'lmctheory[nn]'") from None

from ._data import (
    DATASETS,
    Dataset,
    find_idx_files,
    load_dataset,
    load_dataset_spec,
    parse_dataset_spec,
    read_idx,
)
from ._layers import (
    ChannelLinear,
    LocallyConnected2d,
)
from ._losses import (
    loss_kind,
    mean_loss,
    per_example_loss,
)
from ._models import (
    ACTIVATIONS,
    CNN,
    LCN,
    MLP,
    AttentionNet,
    LogisticRegression,
    MeanFieldTwoLayer,
    activation_constants,
    make_activation,
)
from ._ops import (
    Op,
    ScratchBuffers,
    check_same_architecture,
    dense,
    forward_all,
    network_ops,
    path_outputs,
    register_ops,
    supports,
)
from ._permutation_rules import (
    permutation_rule,
    register_permutation_rule,
)
from ._tracing import (
    PermutationSpec,
    PermutationTracer,
    trace_permutation_spec,
)
from ._tracing_export import (
    exported_graph,
)
from ._train import (
    TrainConfig,
    TrainResult,
    build_model,
    load_checkpoint,
    resolve_device,
    save_checkpoint,
    train,
    train_ensemble,
    train_online,
    train_pair,
)
from ._zoo import (
    VGG,
    VGG_CONFIGS,
    ResNet20,
    ViT,
)

__all__ = [
    "ACTIVATIONS",
    "make_activation",
    "activation_constants",
    "MLP",
    "MeanFieldTwoLayer",
    "LogisticRegression",
    "CNN",
    "LCN",
    "AttentionNet",
    "LocallyConnected2d",
    "ChannelLinear",
    "loss_kind",
    "per_example_loss",
    "mean_loss",
    "VGG",
    "VGG_CONFIGS",
    "ResNet20",
    "ViT",
    "Dataset",
    "DATASETS",
    "load_dataset",
    "load_dataset_spec",
    "parse_dataset_spec",
    "find_idx_files",
    "read_idx",
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
    "Op",
    "dense",
    "register_ops",
    "network_ops",
    "forward_all",
    "supports",
    "path_outputs",
    "check_same_architecture",
    "ScratchBuffers",
    "PermutationSpec",
    "PermutationTracer",
    "trace_permutation_spec",
    "register_permutation_rule",
    "permutation_rule",
    "exported_graph",
]
