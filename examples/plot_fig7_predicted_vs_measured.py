"""
Figure 7: predicted against measured
====================================

Every (certified bound, measured) pair of the ``two_layer``, ``depth`` and ``mean_field`` experiments,
log-log with y = x (:mod:`lmctheory_paper.figures.fig7_predicted_vs_measured`).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[7], cached_only=True)["figures"][7]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
