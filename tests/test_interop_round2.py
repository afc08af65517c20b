"""Real export layouts of issue 30 (interoperability round 2): read on their real file where the
shared fixtures have one, else on a faithful generated copy of the layout with its quirks."""

from __future__ import annotations

import numpy as np
from shared_fixtures import fixture_path

import sfone

FPA = ("imaging", "inscopix_csv_no_status_fpa")


def test_inscopix_csv_without_status_round_trips_as_unknown(tmp_path):
    from sfone.io.imaging._writers import write_inscopix_csv

    ds = sfone.read(fixture_path(*FPA, "Inscopix.csv"))
    path = write_inscopix_csv(ds, tmp_path / "no_status.csv")
    with open(path) as fh:
        fh.readline()
        assert not fh.readline().startswith("Time(s)/Cell Status")  # written without the row
    back = sfone.read(path)
    assert (back["status"].values == "unknown").all() and not back["iscell"].values.any()
    assert back.attrs["fs"] == 20.0
    np.testing.assert_allclose(back["F"].values, ds["F"].values, rtol=1e-6)
