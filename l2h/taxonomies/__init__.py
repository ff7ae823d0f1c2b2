"""Small ground-truth grouping tables shipped with l2h (read by :mod:`l2h.taxonomy`).

Every file's provenance is documented in ``README.md`` in this folder; the tables derived from
other packages are regenerated, never typed, by ``python -m l2h.taxonomies._build``.
"""
