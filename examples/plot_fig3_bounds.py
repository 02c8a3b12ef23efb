"""
Figure 3: width bounds
======================

Required width against epsilon: the papers' shapes (C = 1), rigorous explicit widths, and the deep
recursion as a tower of exponentials (:mod:`lmctheory_paper.figures.fig3_bounds`; closed forms, no data).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[3], cached_only=True)["figures"][3]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
