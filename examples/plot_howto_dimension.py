"""
How to: the intrinsic dimension of a neuron cloud
=================================================

Estimators with the scikit-learn API on a cloud of known dimension, and Ferbach et al.'s approximate
dimension of each hidden layer of a network.
"""

import numpy as np
from torch import nn

from lmctheory.dimension import MLE, ParticipationRatio, TwoNN, sample_manifold
from lmctheory.lmc import layer_dimensions

X, d = sample_manifold("sphere", n=2000, D=20, d=3, seed=0)
for estimator in (MLE(), TwoNN(), ParticipationRatio()):
    estimator.fit(X)
    print(
        f"{type(estimator).__name__}: {estimator.dimension_:.2f} (true {d}, reliable up to "
        f"{estimator.reliability_threshold_:.3g})"
    )

mlp = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2))
inputs = np.random.default_rng(0).normal(size=(500, 10))
for method in ("weights", "weighted", "activations"):
    print(method, [round(r.participation_ratio, 1) for r in layer_dimensions(mlp, inputs, method=method)])
