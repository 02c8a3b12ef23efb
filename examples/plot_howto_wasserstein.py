"""
How to: exact Wasserstein distances and their rate
==================================================

Exact :math:`W_2` between two point clouds (an assignment, certified optimal), the rate of the
two-sample distance against N, and the Fournier–Guillin prediction :math:`-1/d`.
"""

import matplotlib.pyplot as plt
import numpy as np

from lmctheory.ot import sliced_wasserstein, transport
from lmctheory.rates import UniformCube, predicted_slope, rate_curve

rng = np.random.default_rng(0)
x, y = rng.random((500, 5)), rng.random((500, 5))
result = transport(x, y, p=2)
print(f"W_2 = {result.distance:.4f} (W_2^2 = {result.cost:.4f}, method {result.method})")
print(f"sliced W_2 (200 directions) = {sliced_wasserstein(x, y, 2, n_projections=200, seed=0):.4f} <= W_2")

curve = rate_curve(UniformCube(5), [64, 128, 256, 512], p=2, reps=4, seed=0)
fit = curve.fit()
print(
    f"fitted slope {fit.slope:.3f} [{fit.ci_low:.3f}, {fit.ci_high:.3f}], predicted {predicted_slope(5, 2):.3f}"
)

plt.figure(figsize=(5, 3.6))
plt.errorbar(curve.ns, curve.mean, yerr=curve.std, fmt="o", label="mean W_2 +- std (two samples)")
plt.plot(curve.ns, fit.predict(curve.ns), label=f"fit, slope {fit.slope:.2f}")
plt.xscale("log", base=2)
plt.yscale("log")
plt.xlabel("N (points per cloud)")
plt.ylabel("W_2")
plt.legend()
plt.tight_layout()
