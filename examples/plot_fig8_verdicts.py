"""
Figure 8: every prediction's verdict
====================================

Each prediction row of the validation experiments at the p-value of its claim, with the 5 % level and the
borderline band [2.5 %, 10 %] where a verdict would change at half or twice the level; borderline rows are
ringed (:mod:`lmctheory_paper.figures.fig8_verdicts`).

Drawn from the full-preset (paper-scale) records committed with lmctheory: nothing is trained (``cached_only``
refuses to compute, so a stale cache fails the documentation build instead of silently recomputing).
"""

import tempfile

import lmctheory_paper.figures
import matplotlib.image as mpimg
import matplotlib.pyplot as plt

out = tempfile.mkdtemp()
png, pdf = lmctheory_paper.figures.draw_all("full", out_dir=out, only=[8], cached_only=True)["figures"][8]
image = mpimg.imread(png)
plt.figure(figsize=(image.shape[1] / 150, image.shape[0] / 150))
plt.imshow(image)
plt.axis("off")
