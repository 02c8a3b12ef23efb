"""
Figure 6: disentangling LMC
===========================

Excess test error along the path per ingredient, and error barriers with the 0.02 threshold
(:mod:`lmctheory_paper.figures.fig6_disentangle`, data: the ``disentangle`` experiment).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[6], cached_only=True)["figures"][6]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
