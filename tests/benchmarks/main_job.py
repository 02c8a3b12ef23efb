"""The code the main job runs (``make demo``: ``lmctheory validate --quick`` then ``lmctheory figures
--quick``), as one hash: the benchmark of the main job records it, the README's timing table shows it, and a
test fails when the table was measured on other code."""

import hashlib


def main_job_code() -> str:
    """16 hex digits over the code identities (:func:`lmctheory.provenance.code_identity`) of every
    experiment of the quick preset, of ``validate`` and of the figures."""
    from lmctheory_figures import draw_all
    from lmctheory_validation import EXPERIMENTS

    from lmctheory.cli.figures import cmd_figures
    from lmctheory.cli.validate import cmd_validate
    from lmctheory.provenance import code_identity

    functions = [EXPERIMENTS[name].run_config for name in sorted(EXPERIMENTS)] + [
        cmd_validate,
        cmd_figures,
        draw_all,
    ]
    digest = hashlib.sha256()
    for fn in functions:
        digest.update(code_identity(fn)["hash"].encode())
    return digest.hexdigest()[:16]
