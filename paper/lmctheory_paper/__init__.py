"""lmctheory-paper: the experiments, figures and committed records of the LMC-via-optimal-transport papers,
computed with lmctheory.

* :mod:`lmctheory_paper.validation`: experiments that put each theoretical prediction next to the same
  quantity measured (``lmctheory validate``);
* :mod:`lmctheory_paper.figures`: the papers' figures and ``REPORT.md`` (``lmctheory figures``), and the
  committed records (``figures/cache``) they are drawn from.

Installing this distribution adds the ``validate`` and ``figures`` subcommands to the ``lmctheory`` command
(entry-point group ``lmctheory.cli``) and its experiments to the functions ``lmctheory rerun`` may call
(group ``lmctheory.experiments``). This module imports nothing, so that ``lmctheory --help`` stays fast.
"""

__all__: list[str] = []
