"""The networks and their training: data, the six autoencoders (and the supervised control), the
information-plane recorder, a run's config, its storage on disk, and the training loop.

- :mod:`~ipbook.nets.data`: MNIST, Fashion-MNIST and EMNIST letters through torchvision.
- :mod:`~ipbook.nets.layers`: what the models are built from (nonlinearities, sizes, the base class).
- :mod:`~ipbook.nets.models`: the six autoencoders and the supervised classifier.
- :mod:`~ipbook.nets.recorder`: :class:`~ipbook.nets.recorder.InformationPlaneRecorder`, the information plane of any PyTorch model.
- :mod:`~ipbook.nets.recorder_checks`: what the recorder checks before it measures (layers, schedule, probe, labels, outputs).
- :mod:`~ipbook.nets.recorder_frame`: the recorder's rows as a table (ceilings, ``saturated``), saved and loaded exactly.
- :mod:`~ipbook.nets.recorder_plot`: the plane of a recorder's frame (``rec.plot()``).
- :mod:`~ipbook.nets.paths`: ``$IPBOOK_DATA`` made absolute when :mod:`ipbook` is imported.
- :mod:`~ipbook.nets.config`: :class:`~ipbook.nets.config.TrainConfig`, everything that determines a run.
- :mod:`~ipbook.nets.runs`: :class:`~ipbook.nets.runs.Run`, a finished run on disk, and when one may stand for another.
- :mod:`~ipbook.nets.training`: :func:`~ipbook.nets.training.train`, with the information plane recorded online.
"""
