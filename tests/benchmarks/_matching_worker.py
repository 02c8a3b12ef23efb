"""Match a planted 784-512-512-512-10 MLP in a fresh process: prints 'seconds recovered' (import of the
matching library and first call included; the planted problem is built before the clock starts).

Usage: python _matching_worker.py {lmctheory|rebasin}
"""

import sys
import time

import numpy as np
import torch

from lmctheory.align import Permutation, apply_permutation
from lmctheory.nn.models import MLP

torch.manual_seed(0)
model_a = MLP([784, 512, 512, 512, 10])
rng = np.random.default_rng(0)
spec = model_a.permutation_spec()
model_b = apply_permutation(model_a, Permutation({k: rng.permutation(512) for k in spec}, spec=spec))
x = torch.randn(8, 784)

start = time.perf_counter()
if sys.argv[1] == "rebasin":
    import rebasin

    rebasin.PermutationCoordinateDescent(model_a, model_b, x).rebasin()  # permutes model_b in place
    aligned = model_b
else:
    from lmctheory.align import match

    aligned = apply_permutation(model_b, match(model_a, model_b, "full"))
seconds = time.perf_counter() - start
recovered = all(
    torch.equal(p, q)
    for p, q in zip(model_a.state_dict().values(), aligned.state_dict().values(), strict=True)
)
print(seconds, int(recovered))
