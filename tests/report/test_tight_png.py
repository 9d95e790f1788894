"""Figures are drawn once and cropped (lstmtune.report.figures._write_tight_png) instead of
savefig(bbox_inches="tight")'s two drawings: the same image size, the same pixels but for
antialiasing along edges (the crop is shifted by a fraction of a pixel), and savefig itself
where the content passes the figure's edges."""

import io

import numpy as np
import pytest
from PIL import Image

from lstmtune.report import figures


def _figure(outside_legend: bool = False):
    plt = figures._pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    x = np.arange(40)
    ax.plot(x, 1e5 * np.sin(x / 5), label="a long legend label, on purpose")
    ax.set_title("a title")
    ax.set_ylabel("a y label")
    if outside_legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        ax.legend(loc="upper left")
    return fig


def _pixels(write) -> np.ndarray:
    buf = io.BytesIO()
    write(buf)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGBA")).astype(int)


def _savefig(fig):
    return lambda buf: fig.savefig(buf, dpi=figures.DPI, bbox_inches="tight", format="png")


def test_one_drawing_cropped_gives_savefigs_tight_image():
    fig = _figure()
    expected = _pixels(_savefig(fig))
    got = _pixels(lambda buf: figures._write_tight_png(_figure(), buf))
    assert got.shape == expected.shape
    differing = (np.abs(got - expected).sum(axis=-1) > 0).mean()
    assert differing < 0.10, differing  # antialiased edges only (about 5% of pixels)
    assert (got[0] == 255).all() and (got[-1] == 255).all() and (got[:, 0] == 255).all() and (got[:, -1] == 255).all()  # the white pad


def test_content_past_the_figures_edge_is_kept():
    fig = _figure(outside_legend=True)
    expected = _pixels(_savefig(fig))
    got = _pixels(lambda buf: figures._write_tight_png(_figure(outside_legend=True), buf))
    width = int(round(8 * figures.DPI))
    assert expected.shape[1] > width  # the legend widens savefig's image past the figure
    np.testing.assert_array_equal(got, expected)  # savefig drew it, so every pixel is the same


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # the control characters drawn before they are replaced
def test_control_characters_leave_titles_and_named_ticks():
    plt = figures._pyplot()
    fig, ax = plt.subplots()
    ax.boxplot([[1, 2, 3], [2, 3, 4]], tick_labels=["units=1\x1b[31m", "a\nb"])  # as figures.box_plot names them
    ax.set_title("study\x07")
    fig.canvas.draw()
    assert figures._sanitize(fig)
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert "study?" in texts and "units=1?[31m" in texts and "a?b" in texts
    assert not any(figures._CONTROL.search(t) for t in texts)
    assert not figures._sanitize(fig)  # nothing left to replace: not drawn again
    plt.close(fig)


def test_a_box_plot_labels_its_axis_with_the_score_its_title_names(monkeypatch, tmp_path):
    """A study selecting on validation drew its box plot under "final validation RMSE" with
    the axis labelled "test RMSE" (the faceted and horizontal plots read the title)."""
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.append(fig))
    groups = {"units=1": [1.0, 2.0, 3.0], "units=2": [2.0, 3.0, 4.0]}
    figures.box_plot(groups, tmp_path / "a.png", title="units: final validation RMSE", xlabel="units", baseline=2.5)
    figures.box_plot({f"a long configuration name {k}": v for k, v in groups.items()}, tmp_path / "b.png", title="units: final test RMSE", xlabel="units")
    figures.box_plot(groups, tmp_path / "c.png", title="best trials: validation RMSE over repeats", xlabel="trial", rotate=True)
    vertical, horizontal, search = (fig.axes[0] for fig in drawn)
    assert vertical.get_ylabel() == "validation RMSE"
    assert horizontal.get_xlabel() == "test RMSE"
    assert search.get_ylabel() == "validation RMSE"
    for fig in drawn:
        figures._pyplot().close(fig)


def test_a_box_plots_legend_does_not_hide_its_largest_outlier(monkeypatch, tmp_path):
    """The persistence line's legend sat in the upper right corner, over the last configuration's
    largest outlier (the default study's units=5 flier at 191.7, the table's maximum: found by a
    report probe)."""
    drawn = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: drawn.append(fig))
    rng = np.random.default_rng(0)
    groups = {f"units={k}": np.append(60 + 12 * k + 10 * rng.standard_normal(29), 0.0) for k in range(1, 6)}
    groups["units=5"][-1] = 191.7
    figures.box_plot(groups, tmp_path / "box.png", title="units: final validation RMSE", xlabel="units", baseline=98.3)
    fig = drawn[0]
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    fliers = [xy for line in ax.lines for xy in ax.transData.transform(line.get_xydata()) if line.get_marker() not in (None, "None", "")]
    assert fliers and not any(legend.contains(x, y) for x, y in fliers)
    figures._pyplot().close(fig)
