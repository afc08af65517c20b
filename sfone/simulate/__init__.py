"""Seeded simulators with known ground truth, and writers of the real file formats.

Each modality has its own module; :mod:`sfone.simulate.samples` builds ``data_samples/``.
"""
