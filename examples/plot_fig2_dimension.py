"""
Figure 2: intrinsic-dimension estimators
========================================

Estimates against the truth on manifolds of known dimension, and the dimensions of the hidden layers
of a random and a trained MLP, with the kNN reliability threshold (:mod:`lmctheory_paper.figures.fig2_dimension`).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[2], cached_only=True)["figures"][2]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
