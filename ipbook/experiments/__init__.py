"""The experiments: the paper's runs per profile, sweeps over seeds, and the grids that re-measure
their checkpoints or calibrate the estimators.

- :mod:`~ipbook.experiments.profiles`: the paper's seven runs per dataset, by profile (``params/*.yaml``).
- :mod:`~ipbook.experiments.dask_engine`: tasks on a local or an existing Dask cluster.
- :mod:`~ipbook.experiments.sweep`: seeds × runs as Dask tasks (``python -m ipbook sweep``).
- :mod:`~ipbook.experiments.probes`: the probe images the grids measure on, and where extra draws go.
- :mod:`~ipbook.experiments.grid`: the one grid runner (resumable parts, the never-shrink guard,
  an atomic table with its provenance) that the three grids below use.
- :mod:`~ipbook.experiments.sensitivity`: the plane under a grid of matrix-estimator settings.
- :mod:`~ipbook.experiments.second_opinion`: the other estimators on the same checkpoints.
- :mod:`~ipbook.experiments.calibration` and :mod:`~ipbook.experiments.calibration_grid`:
  distributions of known mutual information, and every estimator on them.
- :mod:`~ipbook.experiments.controls`, :mod:`~ipbook.experiments.supervised`: the controls.
- :mod:`~ipbook.experiments.appendix`: the estimator checks of Appendix A.
"""
