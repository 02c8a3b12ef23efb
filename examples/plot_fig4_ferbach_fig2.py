"""
Figure 4: Ferbach et al.'s Fig. 2 on offline data
=================================================

LMC error and approximate dimension against the learning rate, per matcher, on digits and mnist1d
(:mod:`lmctheory_paper.figures.fig4_ferbach_fig2`, data: the ``fig2`` experiment).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[4], cached_only=True)["figures"][4]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
