"""The code the main job runs (``make demo``: ``lmctheory validate --quick`` then ``lmctheory figures
--quick``), as one hash: the benchmark of the main job records it, the README's timing table shows it, and a
test fails when the table was measured on other code."""

import hashlib


def main_job_code() -> str:
    """16 hex digits over the code identities (:func:`lmctheory.runs.code_identity`) of every
    experiment of the quick preset, of ``validate`` and of the figures."""
    from lmctheory_paper._figures_cli import cmd_figures
    from lmctheory_paper._validate_cli import cmd_validate
    from lmctheory_paper.figures import draw_all
    from lmctheory_paper.validation import EXPERIMENTS

    from lmctheory.runs import code_identity

    functions = [EXPERIMENTS[name].run_config for name in sorted(EXPERIMENTS)] + [
        cmd_validate,
        cmd_figures,
        draw_all,
    ]
    digest = hashlib.sha256()
    for fn in functions:
        digest.update(code_identity(fn)["hash"].encode())
    return digest.hexdigest()[:16]
