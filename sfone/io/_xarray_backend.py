"""xarray backend ``engine="sfone"``: ``xr.open_dataset(path, engine="sfone")`` for any sfone format,
so ``xr.open_mfdataset(..., engine="sfone", parallel=True)`` works on cohorts."""

from __future__ import annotations

from xarray.backends import BackendEntrypoint


class SfoneBackendEntrypoint(BackendEntrypoint):
    description = "Read any format sfone supports (suite2p, Doric, CLAMS, ...)"
    url = "https://github.com/sfone/sfone"
    open_dataset_parameters = ("filename_or_obj", "drop_variables", "format")

    def open_dataset(self, filename_or_obj, *, drop_variables=None, format=None):
        from . import read

        ds = read(filename_or_obj, format=format)
        if drop_variables:
            ds = ds.drop_vars(drop_variables, errors="ignore")
        return ds

    def guess_can_open(self, filename_or_obj) -> bool:
        return False  # never claim files implicitly; ask for engine="sfone"
