"""
Figure 5: two-layer networks at initialisation
==============================================

Matching error, output gap and barrier against the width, with the predicted slopes and the certified
bound (:mod:`lmctheory_paper.figures.fig5_barrier_width`, data: the ``two_layer`` experiment).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[5], cached_only=True)["figures"][5]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
