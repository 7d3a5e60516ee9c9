"""The paper's claims, coded once, with their verdicts from the one judge (:mod:`ipbook.verdicts`).

- :mod:`~ipbook.claims.catalog`: every claim of the paper written once (its words, panels,
  chapters) and :func:`~ipbook.claims.catalog.simplifying_claims`, the rule that decides the
  claims about simplifying phases.
- :mod:`~ipbook.claims.findings`: the numbers of one run per layer (its fall and verdict, the
  diagonal) and per run (losses, data-processing violations).
- :mod:`~ipbook.claims.paper`: the paper's claims over a profile's runs, their page text and the
  values the pages glue.
- :mod:`~ipbook.claims.robustness`: the same claims judged on a grid's table, per estimator setting.
"""
