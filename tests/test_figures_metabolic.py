"""Figure 10: calorimetry time courses with dark shading, ANCOVA lines and adjusted means."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from figure_inputs import (
    close_figures,  # noqa: F401  (autouse fixture)
    make_ancova,
    make_calorimetry,
)

from sfone.figures import dark_intervals, figure_metabolic, plot_ancova, plot_metabolic_timecourse
from sfone.reproduce import StatsTable


def test_dark_intervals_cover_each_dark_run():
    time = np.arange(0, 10 * 600.0, 600.0)
    dark = xr.DataArray([0, 0, 1, 1, 1, 0, 0, 1, 1, 1], dims="time", coords={"time": time})
    assert dark_intervals(dark.astype(bool)) == [(1200.0, 3000.0), (4200.0, 6000.0)]


def test_timecourse_mean_band_and_dark_spans():
    ds, is_dark = make_calorimetry()
    ax = plot_metabolic_timecourse(ds, variable="ee", is_dark=is_dark)
    spans = [p for p in ax.patches if p.get_gid() == "dark"]
    assert len(spans) == 3  # lights off 19:00-07:00, experiment starting 07:00, 3 days
    first = spans[0].get_x()
    assert first == pytest.approx(12 / 24)
    line = next(line for line in ax.lines if line.get_gid() == "silenced")
    expected = ds["ee"].where(ds["group"] == "silenced").mean("subject").values
    np.testing.assert_allclose(line.get_ydata(), expected)
    np.testing.assert_allclose(line.get_xdata(), ds["time"].values / 86400)
    assert line.get_label() == "SF1-silenced (n = 6 mice)"
    assert ax.get_ylabel() == "EE (kcal/h)" and ax.get_xlabel() == "Time (days)"


def test_ancova_lines_points_and_adjusted_means():
    ds, _ = make_calorimetry()
    ancova = make_ancova(ds)
    ax = plot_ancova(ds, ancova)
    control = ds["group"].values == "control"
    points = next(c for c in ax.collections if c.get_gid() == "points:control")
    np.testing.assert_allclose(points.get_offsets()[:, 0], ds["body_mass"].values[control])
    np.testing.assert_allclose(points.get_offsets()[:, 1],
                               ds["ee"].values[control].mean(axis=1))
    fit = next(line for line in ax.lines if line.get_gid() == "fit:control")
    g = ancova["groups"]["control"]
    np.testing.assert_allclose(fit.get_ydata(), g["intercept"] + g["slope"] * fit.get_xdata())
    mark = next(line for line in ax.lines if line.get_gid() == "adjusted:silenced")
    assert mark.get_xdata()[0] == pytest.approx(ds["body_mass"].values.mean())
    assert mark.get_ydata()[0] == pytest.approx(ancova["groups"]["silenced"]["adjusted_mean"])
    assert any(t.get_text() == "Group effect: ANCOVA, p = 0.013" for t in ax.texts)
    assert ax.get_xlabel() == "Body mass (g)"


def test_figure10_stats_light_dark_means_and_ancova_rows():
    ds, is_dark = make_calorimetry()
    stats = StatsTable()
    figure_metabolic(ds, is_dark, make_ancova(ds), stats=stats)
    frame = stats.to_frame().set_index(["quantity", "group"])
    control = ds["group"].values == "control"
    dark = is_dark.values
    expected = ds["ee"].values[control][:, dark].mean(axis=1).mean()
    assert frame.loc[("ee_kcal_h", "control/dark"), "value"] == pytest.approx(expected)
    assert frame.loc[("ee_kcal_h", "control/dark"), "n"] == 6
    assert frame.loc[("ee_ancova_group", "all"), "p_value"] == 0.013
    assert frame.loc[("ee_adjusted_mean", "control"), "value"] == pytest.approx(
        make_ancova(ds)["groups"]["control"]["adjusted_mean"])


def test_figure10_of_the_samples_shades_the_data_light_switch():
    """data_samples' cages switch lights at 07:00 and 19:00 (recording starts 07:00): the dark
    spans must cover 12-24 h and 36-48 h, and the light means use 07:00-18:59 readings only."""
    from pathlib import Path

    import matplotlib.pyplot as plt

    import sfone
    from sfone.reproduce import STAGES, StatsTable, load_study, spec_for

    samples = Path(__file__).resolve().parents[1] / "data_samples"
    stats = StatsTable()
    data = STAGES["metabolic cage"](load_study(samples / "study.yaml"), scheduler=None,
                                    workers=None)
    fig = spec_for(10).build(data, stats, "fig10").figure
    spans = [p for p in fig.axes[0].patches if p.get_gid() == "dark"]
    # zeitgeber time (h from lights on, 07:00 in the CalR session; the recording starts then)
    hours = [(round(p.get_x(), 6), round(p.get_x() + p.get_width(), 6)) for p in spans]
    xlabels = [ax.get_xlabel() for ax in fig.axes]
    plt.close(fig)
    assert hours == [(12.0, 24.0), (36.0, 48.0)]
    assert "Zeitgeber time (h; ZT0 = lights on)" in xlabels
    ds = sfone.read(samples / "calorimetry_promethion_macro.csv")
    stamps = pd.DatetimeIndex(ds["datetime"].values[0])
    lit = (stamps.hour >= 7) & (stamps.hour < 19)
    control = ["cage_1", "cage_2", "cage_3", "cage_4"]
    expected = ds["ee"].sel(subject=control).values[:, lit].mean(axis=1).mean()
    frame = stats.to_frame().set_index(["quantity", "group"])
    assert frame.loc[("ee_kcal_h", "control/light"), "value"] == pytest.approx(expected)


def test_zeitgeber_time_counts_hours_from_lights_on_not_from_the_start():
    ds, is_dark = make_calorimetry()  # 3 days from 07:00, 20-min samples
    start = pd.Timestamp("2026-01-05 10:20")  # the same readings, started at 10:20 instead
    stamps = start + pd.to_timedelta(ds["time"].values, unit="s")
    ds = ds.assign(datetime=(("subject", "time"), np.tile(stamps.values, (ds.sizes["subject"], 1))))
    clock = (stamps.hour + stamps.minute / 60) % 24
    dark = xr.DataArray((clock >= 19) | (clock < 7), dims="time", coords={"time": ds["time"]})
    ax = plot_metabolic_timecourse(ds, variable="ee", is_dark=dark, time_unit="zt", lights_on=7)
    line = next(line for line in ax.lines if line.get_gid() == "control")
    zt0 = 3 + 20 / 60  # 10:20 is ZT 3:20
    np.testing.assert_allclose(line.get_xdata(), zt0 + ds["time"].values / 3600)
    spans = [p for p in ax.patches if p.get_gid() == "dark"]
    assert spans[0].get_x() == pytest.approx(12.0)  # 19:00, lights off = ZT12
    assert spans[1].get_x() == pytest.approx(36.0)
    assert ax.get_xlabel() == "Zeitgeber time (h; ZT0 = lights on)"
    assert list(ax.get_xticks()[:3]) == [0.0, 12.0, 24.0]
    with pytest.raises(ValueError, match="lights_on"):
        plot_metabolic_timecourse(ds, time_unit="zt")
    with pytest.raises(ValueError, match="'datetime' variable"):
        plot_metabolic_timecourse(ds.drop_vars("datetime"), time_unit="zt", lights_on=7)
