"""Processing building blocks: robust line fit, alignment, z-scores, TTL events, AUC, baselines."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from sfone._robust_fit import fit_line
from sfone.exceptions import QualityWarning
from sfone.photometry import (
    align_to,
    auc,
    compute_dff,
    fit_bleaching,
    lowpass,
    robust_zscore,
    ttl_to_events,
    window_zscore,
)


def _trace(values, t, dim="time", name="x"):
    return xr.DataArray(np.asarray(values, dtype=float), dims=(dim,),
                        coords={dim: (dim, np.asarray(t, dtype=float), {"units": "s"})},
                        name=name, attrs={"units": "V"})


def test_irls_ignores_outliers_ols_does_not():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 2000)
    y = 1.5 + 2.0 * x + rng.normal(0, 0.1, x.size)
    y[:200] += 30  # 10 % gross outliers
    for norm in ("tukey", "huber"):
        intercept, slope = fit_line(x, y, method="irls", norm=norm)
        assert slope == pytest.approx(2.0, abs=0.02)
        assert intercept == pytest.approx(1.5, abs=0.1)
    assert fit_line(x, y, method="ols")[0] > 3.5  # pulled up by the outliers


def test_tuning_constant_changes_the_fit():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 10, 1000)
    y = 2.0 * x + rng.standard_t(2, x.size)
    loose = fit_line(x, y, method="irls", tuning=1e6)  # every weight ~1: OLS
    assert loose == pytest.approx(fit_line(x, y, method="ols"), rel=1e-6)
    keevers = fit_line(x, y, method="irls", tuning=1.4)
    assert abs(keevers[1] - 2.0) < abs(loose[1] - 2.0)  # heavy tails: robust slope closer
    with pytest.raises(ValueError, match="positive"):
        fit_line(x, y, method="irls", tuning=0)


def test_align_to_interpolates_explicitly_and_leaves_nan_outside():
    src = _trace(np.arange(10.0), np.arange(10.0) + 0.5, dim="time_b")
    target = _trace(np.zeros(11), np.arange(11.0), dim="time_a")
    out = align_to(src, target)
    assert out.dims == ("time_a",)
    assert np.isnan(out.values[0]) and np.isnan(out.values[-1])
    np.testing.assert_allclose(out.values[1:10], np.arange(9.0) + 0.5)
    assert out.attrs["interpolated_from"] == "time_b"


def test_baseline_window_fit_ignores_a_later_step():
    t = np.arange(0, 200, 0.1)
    rng = np.random.default_rng(2)
    control = 1 + 0.1 * np.sin(t / 3) + rng.normal(0, 0.001, t.size)
    signal = 2 * control
    signal[t >= 100] += 0.5  # drug-like step change after the baseline
    ds = xr.Dataset({"s": _trace(signal, t), "c": _trace(control, t)})
    dff = compute_dff(ds, signal="s", control="c", method="ols", bleach_correction=False,
                      baseline_window=(0, 90))
    assert dff.attrs["fit_slope"] == pytest.approx(2.0, rel=1e-3)
    assert np.abs(dff.values[t < 90]).max() < 0.01
    assert np.median(dff.values[t > 110]) == pytest.approx(0.5 / (2 * 1), rel=0.2)


def test_negative_slope_is_flagged():
    t = np.arange(0, 100, 0.1)
    ds = xr.Dataset({"s": _trace(2 - 0.1 * np.sin(t), t), "c": _trace(1 + 0.1 * np.sin(t), t)})
    with pytest.warns(QualityWarning, match="non-positive slope"):
        compute_dff(ds, signal="s", control="c", method="ols", bleach_correction=False)


def test_fit_bleaching_recovers_double_exponential():
    t = np.arange(0, 1800, 0.1)
    truth = 1 + 0.5 * np.exp(-t / 100) + 0.3 * np.exp(-t / 900)
    fit = fit_bleaching(_trace(truth, t))
    np.testing.assert_allclose(fit.values, truth, rtol=2e-3)


def test_lowpass_removes_high_frequency_keeps_nan():
    t = np.arange(0, 60, 0.01)
    x = np.sin(2 * np.pi * 0.5 * t) + np.sin(2 * np.pi * 20 * t)
    x[:10] = np.nan
    out = lowpass(_trace(x, t), 3.0)
    assert np.isnan(out.values[:10]).all()
    middle = slice(1000, 5000)
    np.testing.assert_allclose(out.values[middle], np.sin(2 * np.pi * 0.5 * t[middle]), atol=0.02)
    with pytest.raises(ValueError, match="Nyquist"):
        lowpass(_trace(x, t), 80.0)


def test_robust_and_window_zscore():
    rng = np.random.default_rng(3)
    x = rng.normal(5, 2, 20000)
    x[:100] = 1000  # outliers do not move the robust centre/scale
    z = robust_zscore(_trace(x, np.arange(x.size) * 0.01))
    assert np.median(z.values) == pytest.approx(0, abs=0.02)
    assert np.median(np.abs(z.values[100:])) == pytest.approx(0.6745, abs=0.03)
    t = np.arange(100.0)
    y = np.where(t < 50, np.tile([1.0, 3.0], 50), 10.0)
    wz = window_zscore(_trace(y, t), (0, 49))
    assert wz.values[-1] == pytest.approx((10 - 2) / 1)
    assert z.attrs["units"] == wz.attrs["units"] == "1"


def test_ttl_debounce_and_min_width():
    t = np.arange(0, 10, 0.01)
    level = np.zeros(t.size)
    level[(t >= 1) & (t < 2)] = 5  # 1 s pulse (5 V TTL)
    level[(t >= 2.03) & (t < 2.5)] = 5  # bounce 30 ms after the first pulse ends
    level[(t >= 5) & (t < 5.02)] = 5  # 20 ms glitch
    level[(t >= 7) & (t < 8)] = 5
    da = _trace(level, t)
    raw = ttl_to_events(da)
    assert len(raw.epoch) == 4
    clean = ttl_to_events(da, debounce_s=0.05, min_width_s=0.1)
    np.testing.assert_allclose(clean.start.values, [1.0, 7.0], atol=1e-9)
    np.testing.assert_allclose(clean.end.values, [2.5, 8.0], atol=1e-9)
    assert clean.attrs["modality"] == "events"


def test_ttl_high_at_end_closes_at_last_sample():
    t = np.arange(0, 1, 0.1)
    events = ttl_to_events(_trace([0, 0, 1, 1, 0, 0, 0, 1, 1, 1], t))
    np.testing.assert_allclose(events.start.values, [0.2, 0.7])
    np.testing.assert_allclose(events.end.values, [0.4, 0.9])


def test_auc_in_signal_times_seconds_independent_of_rate():
    for fs in (10.0, 1000.0):
        t = np.arange(0, 4 + 1 / fs / 2, 1 / fs)
        da = _trace(np.full(t.size, 0.5), t)
        assert auc(da) == pytest.approx(2.0)  # 0.5 x 4 s
        assert auc(da, start=1, end=2) == pytest.approx(0.5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30), st.integers(1, 30)), min_size=1, max_size=20))
def test_ttl_edges_recovered_exactly(gaps_and_widths):
    """Any pulse train on a 100 Hz clock: starts/ends are the first high/low samples."""
    fs = 100.0
    level, starts, ends, i = [], [], [], 0
    for gap, width in gaps_and_widths:
        level += [0] * gap + [1] * width
        starts.append(i + gap)
        ends.append(i + gap + width)
        i += gap + width
    level += [0]
    t = np.arange(len(level)) / fs
    events = ttl_to_events(_trace(level, t))
    np.testing.assert_allclose(events.start.values, t[starts])
    np.testing.assert_allclose(events.end.values, t[ends])
