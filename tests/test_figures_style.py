"""Style helpers: palette, sizes, p formatting, test normalisation and atomic multi-format saving."""

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from PIL import Image

from sfone.figures import OKABE_ITO, figsize, figure_style, format_p, save_figure
from sfone.figures._style import as_test_result, mean_sem


def test_column_sizes_in_inches():
    assert figsize("single", 50.8) == pytest.approx((85 / 25.4, 2.0))
    assert figsize("double")[0] == pytest.approx(174 / 25.4)


def test_style_sets_small_fonts_and_okabe_ito_has_eight_colours():
    with figure_style():
        assert plt.rcParams["font.size"] == 7
        assert plt.rcParams["xtick.labelsize"] == 6
    assert len({v for k, v in OKABE_ITO.items() if k != "grey"}) == 8


@pytest.mark.parametrize(("p", "text"), [(0.0171, "p = 0.017"), (0.5, "p = 0.5"),
                                         (0.0055, "p = 0.0055"), (3.1e-4, "p = 3.1e-04"),
                                         (1e-12, "p < 1e-10")])
def test_format_p(p, text):
    assert format_p(p) == text


def test_test_results_from_dict_series_frame_and_dataclass():
    from dataclasses import dataclass

    @dataclass
    class Result:
        test: str
        statistic: float
        p_value: float

    expected = {"test": "Fisher exact", "statistic": 2.0, "p_value": 0.04}
    assert as_test_result(expected) == expected
    assert as_test_result(pd.Series(expected)) == expected
    assert as_test_result(pd.DataFrame([expected])) == expected
    assert as_test_result(Result("Fisher exact", 2.0, 0.04)) == expected
    with pytest.raises(ValueError, match="p_value"):
        as_test_result({"test": "x"})


def test_mean_sem_ignores_nan_and_needs_two_values():
    mean, sem, n = mean_sem([[1.0, 5.0], [3.0, float("nan")]], axis=0)
    assert list(mean) == [2.0, 5.0] and list(n) == [2, 1]
    assert sem[0] == pytest.approx(1.0) and sem[1] != sem[1]


def test_save_figure_writes_each_format_at_300_dpi_reproducibly(tmp_path):
    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [0, 1])
    paths = save_figure(fig, tmp_path / "panel")
    assert [p.name for p in paths] == ["panel.png", "panel.svg", "panel.pdf"]
    with Image.open(paths[0]) as image:
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.1)
    first = {p.suffix: p.read_bytes() for p in paths}
    save_figure(fig, tmp_path / "panel")
    assert {p.suffix: p.read_bytes() for p in paths} == first
    assert sorted(f.name for f in tmp_path.iterdir()) == ["panel.pdf", "panel.png", "panel.svg"]
    plt.close(fig)
