"""The argument checks (sfone._validate) and their one wording, at the helper and at call sites."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sfone._validate import (
    _check_option,
    _check_options,
    _check_positive,
    _must_be,
    _validate_type,
)


def test_must_be_is_the_one_wording():
    assert _must_be("window", "(start, end)", 3) == "window must be (start, end), got 3"


def test_check_option_returns_the_value_or_lists_the_allowed_ones():
    assert _check_option("method", "ols", ("ols", "irls")) == "ols"
    assert _check_option("repair", None, (None, "decimal")) is None
    with pytest.raises(ValueError) as info:
        _check_option("method", "lowess", ("ols", "irls", "huber"))
    assert str(info.value) == "method must be one of 'ols', 'irls' or 'huber', got 'lowess'"
    with pytest.raises(ValueError, match=r"^layout must be '1.x', got '2'$"):
        _check_option("layout", "2", ("1.x",))
    with pytest.raises(ValueError, match=r"got \['a'\]$"):  # unhashable: never allowed
        _check_option("kind", ["a"], {"a"})


def test_check_options_names_the_first_value_not_allowed():
    assert _check_options("include", ["state", "event"], ("state", "event", "print")) == (
        "state", "event")
    with pytest.raises(ValueError, match=r"^include must be one or more of 'a' or 'b', got 'c'$"):
        _check_options("include", ["a", "c"], ("a", "b"))
    with pytest.raises(ValueError, match=r"one or more of 'a' or 'b', got \(\)$"):
        _check_options("include", [], ("a", "b"))


@pytest.mark.parametrize("bad", [0, -1.5, float("nan"), float("inf"), True, "3"])
def test_check_positive_refuses_what_is_not_a_finite_positive_number(bad):
    with pytest.raises(ValueError, match=r"^tuning must be a positive number of seconds, got "):
        _check_positive("tuning", bad, unit="seconds")


def test_check_positive_accepts_numpy_numbers():
    assert _check_positive("c", np.float32(2.5)) == 2.5 and _check_positive("c", np.int64(3)) == 3


def test_validate_type():
    assert _validate_type(Path("x"), "path-like", "path") == Path("x")
    assert _validate_type(None, (None, int), "n") is None
    assert _validate_type(np.float64(1.0), "numeric", "x") == 1.0
    with pytest.raises(TypeError) as info:
        _validate_type(3, ("path-like", None), "path")
    assert str(info.value) == "path must be an instance of path-like or None, got 3 (int)"
    with pytest.raises(TypeError, match=r"^x must be an instance of numeric, got True \(bool\)$"):
        _validate_type(True, "numeric", "x")


def test_call_sites_use_the_wording():
    from sfone._robust_fit import fit_line
    from sfone.calorimetry import energy_expenditure
    from sfone.footprints import footprint_matrix

    x = np.arange(10.0)
    with pytest.raises(ValueError, match=r"^method must be one of 'ols' or 'irls', got 'lad'$"):
        fit_line(x, 2 * x, method="lad")
    with pytest.raises(ValueError, match=r"^tuning must be a positive number, got -1$"):
        fit_line(x, 2 * x, method="irls", tuning=-1)
    assert fit_line(x, 2 * x + 1, method="irls", tuning=2.0) == pytest.approx((1.0, 2.0))
    with pytest.raises(ValueError, match=r"^equation must be one of 'weir', .*got 'wier'$"):
        energy_expenditure(1000.0, 800.0, equation="Wier")
    assert energy_expenditure(1000.0, 800.0, equation="WEIR") == pytest.approx(
        (3.941 * 1000 + 1.106 * 800) / 1000)
    with pytest.raises(ValueError, match=r"^normalize must be one of None, 'sum' or 'l2', got "
                                         r"'max'$"):
        footprint_matrix(None, normalize="max")


def test_register_task_checks_its_argument_type():
    from sfone.batch import register_task

    with pytest.raises(TypeError, match=r"^task must be an instance of BatchTask, got 'classify' "
                                        r"\(str\)$"):
        register_task("classify")


def test_nwb_fiber_keys_use_the_wording():
    import xarray as xr

    from sfone.io.photometry.nwb import _fiber_info

    ds = xr.Dataset({"gcamp": ("time", np.zeros(3), {"excitation_nm": 470.0})})
    info = _fiber_info(ds, "gcamp", {"*": {"location": "VMH"}})
    assert info["location"] == "VMH" and info["excitation_wavelength_nm"] == 470.0
    with pytest.raises(ValueError, match=r"^the keys of fibers\['gcamp'\] must be one or more of "
                                         r".*, got 'colour'$"):
        _fiber_info(ds, "gcamp", {"gcamp": {"colour": "green"}})


def test_perievent_and_imaging_checks_use_the_wording():
    import xarray as xr

    from sfone.imaging import baseline_maximin, baseline_percentile, compute_dff
    from sfone.perievent import align_times, compute_perievent

    with pytest.raises(ValueError, match=r"^align must be one of 'start' or 'end', got 'middle'$"):
        align_times(np.array([[1.0, 2.0]]), "middle")
    trace = xr.DataArray(np.zeros((1, 50)), dims=("roi", "time"),
                         coords={"time": np.arange(50) / 10.0}, attrs={"fs": 10.0})
    with pytest.raises(ValueError, match=r"^window must be \(first, last\) with first < last, "
                                         r"got \(5.0, 1.0\)$"):
        compute_perievent(trace, np.array([[1.0, 2.0]]), window=(5.0, 1.0))
    with pytest.raises(ValueError, match=r"^window_s must be a positive number of seconds, got 0$"):
        baseline_maximin(trace, window_s=0)
    with pytest.raises(ValueError, match=r"^percentile must be a number from 0 to 100, got 101$"):
        baseline_percentile(trace, percentile=101)
    ds = xr.Dataset({"F": trace}, attrs={"fs": 10.0})
    with pytest.raises(ValueError, match=r"^baseline must be one of 'maximin', 'percentile' or "
                                         r"'window', got 'median'$"):
        compute_dff(ds, baseline="median")
    with pytest.raises(ValueError, match=r"^baseline_window must be \(start_s, end_s\) when "
                                         r"baseline='window', got None$"):
        compute_dff(ds, baseline="window")
    assert float(compute_dff(ds.assign(F=ds["F"] + 2.0), baseline="window",
                             baseline_window=(0.0, 1.0)).max()) == 0.0
