"""Match a planted pair in a fresh process: prints 'seconds recovered objective' (import of the matching
library and first call included; the planted problem is built before the clock starts).

Usage: python _matching_worker.py {lmctheory|rebasin} [mlp|resnet20x4|vgg11]

mlp: 784-512-512-512-10; resnet20x4: ResNet-20 with batch norm, width 4 (64/128/256 channels); vgg11:
VGG-11 with batch norm, full width (64..512 channels); both on 3 x 32 x 32 inputs. The objective is Git
Re-Basin's: the sum over parameters of <A, aligned B> (its maximum, |A|^2, means exact recovery).
"""

import sys
import time

import numpy as np
import torch

from lmctheory.lmc import Permutation, apply_permutation
from lmctheory.nn import MLP, VGG, ResNet20

library, model = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "mlp")
torch.manual_seed(0)
if model == "mlp":
    model_a, x = MLP([784, 512, 512, 512, 10]), torch.randn(8, 784)
elif model == "resnet20x4":
    model_a, x = ResNet20(width=4).eval(), torch.randn(8, 3, 32, 32)
elif model == "vgg11":
    model_a, x = VGG((3, 32, 32), config="vgg11").eval(), torch.randn(8, 3, 32, 32)
else:
    raise SystemExit(f"unknown model {model!r}")
rng = np.random.default_rng(0)
spec = model_a.permutation_spec()
sizes = {k: model_a.state_dict()[axes[0][0]].shape[axes[0][1]] for k, axes in spec.items()}
model_b = apply_permutation(
    model_a, Permutation({k: rng.permutation(n) for k, n in sizes.items()}, spec=spec)
)

start = time.perf_counter()
if library == "rebasin":
    import rebasin

    rebasin.PermutationCoordinateDescent(model_a, model_b, x).rebasin()  # permutes model_b in place
    aligned = model_b
else:
    from lmctheory.lmc import match

    aligned = apply_permutation(model_b, match(model_a, model_b, method="full", spec=spec), spec)
seconds = time.perf_counter() - start
recovered = all(
    torch.equal(p, q)
    for p, q in zip(model_a.state_dict().values(), aligned.state_dict().values(), strict=True)
)
objective = sum(
    float((p.detach().double() * q.detach().double()).sum())
    for p, q in zip(model_a.parameters(), aligned.parameters(), strict=True)
)
print(seconds, int(recovered), objective)
