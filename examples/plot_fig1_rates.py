"""
Figure 1: empirical-measure rates
=================================

E W_p against N for uniform laws in d = 1..8 (p = 1, 2), with the Fournier–Guillin slopes and
the explicit bound capped at the diameter (:mod:`lmctheory_paper.figures.fig1_rates`, data: the ``rates``
experiment).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[1], cached_only=True)["figures"][1]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
