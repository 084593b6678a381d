"""Charts as PNG bytes, for a chat message, the digest, or the docs.

matplotlib through its Agg canvas on Figure objects: pyplot's state machine is never used, so
charts can be drawn from several threads at once. The text is Vietnamese in DejaVu Sans (shipped
with matplotlib, it has the glyphs). Output is deterministic: a fixed DPI and a PNG without the
"Software" metadata, so the same input gives the same bytes. Text is drawn without FreeType's
hinting (set for the process on import: only these charts use matplotlib here): matplotlib's
default forces the auto-hinter on every glyph, each time a label is measured, laid out and drawn,
a fifth of a chart's time; unhinted, the letters are a little softer, the diacritics as clear.

The heat map shows every unit up to :data:`HEATMAP_MAX_UNITS` rows (the picture grows taller and
its labels smaller). Past that (a province's 100–150 communes) a picture of every row would be
unreadable on a phone: it shows the units that need attention — late or missing in at least one
period, the most missing first — up to that many, and says in its subtitle how many it left out.
The full matrix stays in the text overview and the Excel workbook.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from decimal import Decimal

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import ScaledTranslation
from PIL import Image

from documents import labels
from documents.formats import fmt_number, fmt_percent, fmt_quantity
from documents.model import (
    ChartUnit,
    Direction,
    Indicator,
    IndicatorReading,
    PeriodCounts,
    ReportingState,
    StateMatrix,
)

DPI = 100
FONT = "DejaVu Sans"
HEATMAP_MAX_UNITS = 50
RATE_MAX_PERIODS = 24
INDICATOR_MAX_READINGS = 40
PNG_COMPRESSION = 1  # zlib level (savefig's default is 6): see _png

# Blue / orange / red / grey: told apart with the common colour-vision deficiencies too.
STATE_COLOURS: dict[ReportingState, str] = {
    ReportingState.ON_TIME: "#4575b4",
    ReportingState.LATE: "#fdae61",
    ReportingState.MISSING: "#d73027",
    ReportingState.NOT_DUE: "#d9d9d9",
}
STATE_ORDER = (
    ReportingState.ON_TIME,
    ReportingState.LATE,
    ReportingState.MISSING,
    ReportingState.NOT_DUE,
)
MET_COLOUR, NOT_MET_COLOUR, TARGET_COLOUR = "#4575b4", "#d73027", "#333333"

matplotlib.rcParams["text.hinting"] = "none"  # see the module's docstring


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    """The figure laid out and drawn once, as PNG bytes. ``savefig`` would lay it out in a draw
    of its own first (the constrained layout needs the text sizes), then draw it again."""
    canvas = figure.canvas
    with warnings.catch_warnings():
        # A name may hold a letter no installed font has (typed by anyone): it shows as a box,
        # which is no reason to warn on every chart.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
        canvas.draw()
    size = canvas.get_width_height(physical=True)
    pixels = canvas.buffer_rgba()  # type: ignore[attr-defined]  # Agg's (see _figure)
    # RGB: the figure is opaque, an alpha channel would only add a quarter to encode.
    image = Image.frombuffer("RGBA", size, pixels, "raw", "RGBA", 0, 1).convert("RGB")
    buffer = io.BytesIO()
    # zlib's fastest level: the encoding ~30 % quicker than savefig's level 6, the file still
    # smaller than its RGBA one. No text chunks: no "Software", no date.
    image.save(buffer, format="png", dpi=(DPI, DPI), compress_level=PNG_COMPRESSION)
    return buffer.getvalue()


def _unlabelled(axes: Axes, *, x: bool = True, y: bool = True) -> None:
    """Put the axis labels ``axes`` leave empty in a fixed place. To place an axis label itself,
    matplotlib measures every tick label again, on each layout pass and on the draw, even when
    the label is empty: the heat map's 50 unit names three times over."""
    if x:
        axes.xaxis.set_label_coords(0.5, 0.0)
    if y:
        axes.yaxis.set_label_coords(0.0, 0.5)


def _wrap(text: str, width: float) -> str:
    """Break each line of ``text`` at about ``width`` characters."""
    lines = [part for line in text.split("\n") for part in textwrap.wrap(line, int(width))]
    return "\n".join(lines) or text


def reporting_rate_chart(periods: Sequence[PeriodCounts]) -> bytes:
    """Stacked bars per period: the share of units on time, late, missing (and not yet due)."""
    shown = list(periods[-RATE_MAX_PERIODS:])
    figure = _figure(max(6.0, 1.3 * len(shown) + 2.5), 5.0)
    axes = figure.add_subplot()
    positions = range(len(shown))
    bottoms = [0.0] * len(shown)
    for state in STATE_ORDER:
        if not any(period.count(state) for period in shown):
            continue
        shares = [_share(period.count(state), period.total) for period in shown]
        bars = axes.bar(
            positions, shares, 0.6, bottom=bottoms, color=STATE_COLOURS[state], edgecolor="white"
        )
        bars.set_label(labels.STATE_LABELS[state])
        for bar, period, share, bottom in zip(bars, shown, shares, bottoms, strict=True):
            if share >= 6:
                count = period.count(state)
                text = f"{count}\n({fmt_percent(count, period.total)}%)"
                middle = (bar.get_x() + bar.get_width() / 2, bottom + share / 2)
                axes.text(*middle, text, ha="center", va="center", fontsize=8, family=FONT)
        bottoms = [bottom + share for bottom, share in zip(bottoms, shares, strict=True)]
    axes.set_xticks(list(positions), [_wrap(period.label, 16) for period in shown], fontsize=8)
    axes.set_ylim(0, 100)
    axes.set_ylabel(labels.CHART_RATE_AXIS, family=FONT)
    title = labels.CHART_RATE_TITLE
    if len(shown) < len(periods):
        note = labels.CHART_RATE_RECENT.format(shown=len(shown), total=len(periods))
        title = f"{title}\n{note}"
    axes.set_title(title, family=FONT, y=1.0)  # see _indicator_panel
    _unlabelled(axes, y=False)
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=9, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _png(figure)


def _share(count: int, total: int) -> float:
    return 100.0 * count / total if total else 0.0


def _attention_rank(row: Sequence[ReportingState]) -> tuple[int, int]:
    return (-row.count(ReportingState.MISSING), -row.count(ReportingState.LATE))


def heatmap_rows(matrix: StateMatrix) -> tuple[list[int], str | None]:
    """The rows the heat map shows, and the subtitle saying what it left out (if anything)."""
    everyone = list(range(len(matrix.units)))
    if len(everyone) <= HEATMAP_MAX_UNITS:
        return everyone, None
    attention = [
        index
        for index in everyone
        if {ReportingState.LATE, ReportingState.MISSING} & set(matrix.rows[index])
    ]
    if not attention:
        return [], labels.CHART_HEATMAP_ALL_FINE.format(total=len(everyone))
    attention.sort(key=lambda index: _attention_rank(matrix.rows[index]))  # stable: plan order
    shown = attention[:HEATMAP_MAX_UNITS]
    note = labels.CHART_HEATMAP_ATTENTION.format(
        shown=len(shown), attention=len(attention), fine=len(everyone) - len(attention)
    )
    return shown, note


def unit_period_heatmap(
    units: Sequence[ChartUnit],
    periods: Sequence[str],
    states: Sequence[Sequence[ReportingState]],
) -> bytes:
    """A unit × period grid coloured by reporting state (see the module's note on many units)."""
    matrix = StateMatrix.of(units, periods, states)
    rows, note = heatmap_rows(matrix)
    label_size = 9 if len(rows) <= 25 else 7
    row_height = 0.3 if len(rows) <= 25 else 0.22
    width = max(6.0, 3.0 + 1.2 * len(periods))
    figure = _figure(width, 1.8 + row_height * max(len(rows), 2))
    axes = figure.add_subplot()
    codes = [[STATE_ORDER.index(state) for state in matrix.rows[index]] for index in rows]
    colours = ListedColormap([STATE_COLOURS[state] for state in STATE_ORDER])
    if codes:
        axes.pcolormesh(codes, cmap=colours, vmin=-0.5, vmax=3.5, edgecolors="white")
        names = [units[i].label for i in rows]
        _row_names(axes, [row + 0.5 for row in range(len(rows))], names, label_size)
        axes.set_xticks([i + 0.5 for i in range(len(periods))], [_wrap(p, 16) for p in periods])
        axes.invert_yaxis()
    else:
        axes.set_axis_off()
    axes.tick_params(
        axis="x", labelsize=8, top=True, labeltop=True, bottom=False, labelbottom=False
    )
    _unlabelled(axes)
    title = labels.CHART_HEATMAP_TITLE if note is None else f"{labels.CHART_HEATMAP_TITLE}\n{note}"
    # The figure's title, not the axes': one above the period names would be placed by measuring
    # every unit name again (matplotlib's title placement); centred on the picture, it fits too.
    figure.suptitle(_wrap(title, 12 * width), family=FONT, fontsize=10)
    handles = [
        Patch(color=STATE_COLOURS[state], label=labels.STATE_LABELS[state]) for state in STATE_ORDER
    ]
    figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    return _png(figure)


def _row_names(axes: Axes, positions: Sequence[float], names: Sequence[str], size: float) -> None:
    """Unit names left of their rows (at ``positions`` on the y axis), where tick labels would
    stand, as plain texts: as tick labels, each would bring a tick of five artists, copied when
    made and updated on every layout pass and the draw."""
    axes.set_yticks([])
    # x in the axes' width, 7 points left of it (a tick label's pad and tick); y in data
    beside = axes.get_yaxis_transform() + ScaledTranslation(-7 / 72, 0, axes.figure.dpi_scale_trans)
    for position, name in zip(positions, names, strict=True):
        axes.text(0, position, name, transform=beside, ha="right", va="center_baseline", size=size)


def _indicator_panel(
    axes: Axes, indicator: Indicator, readings: Sequence[IndicatorReading]
) -> None:
    target = float(Decimal(str(indicator.target)))
    # y given, matplotlib keeps the title there instead of measuring the tick labels to see
    # whether any stands on top to clear (none here).
    axes.set_title(_wrap(indicator.name, 70), family=FONT, fontsize=10, loc="left", y=1.0)
    _unlabelled(axes)
    if not readings:
        axes.text(0.5, 0.5, labels.CHART_INDICATOR_NO_VALUES, ha="center", va="center")
        axes.set_axis_off()
        return
    values = [float(Decimal(str(reading.value))) for reading in readings]
    colours = [
        MET_COLOUR if indicator.met_by(reading.value) else NOT_MET_COLOUR for reading in readings
    ]
    positions = range(len(readings))
    axes.barh(positions, values, color=colours, height=0.6)
    _row_names(axes, positions, [reading.unit_label for reading in readings], 8)
    axes.set_ylim(max(len(readings), 3) - 0.5, -0.5)  # top to bottom; a lone bar stays thin
    target_text = labels.CHART_INDICATOR_TARGET.format(
        direction=labels.DIRECTION_LABELS[indicator.direction],
        target=fmt_quantity(indicator.target, indicator.unit),
    )
    line = axes.axvline(target, color=TARGET_COLOUR, linestyle="--", linewidth=1.2)
    line.set_label(target_text)
    for position, reading, value in zip(positions, readings, values, strict=True):
        axes.text(value, position, f" {fmt_number(reading.value)}", va="center", fontsize=8)
    axes.set_xlim(0, max([*values, target]) * 1.18)
    handles = [
        line,
        Patch(color=MET_COLOUR, label=labels.CHART_INDICATOR_MET),
        Patch(color=NOT_MET_COLOUR, label=labels.CHART_INDICATOR_NOT_MET),
    ]
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    axes.spines[["top", "right"]].set_visible(False)


def _readings_to_show(
    indicator: Indicator, readings: Sequence[IndicatorReading]
) -> tuple[list[IndicatorReading], int]:
    mine = [reading for reading in readings if reading.indicator_code == indicator.code]
    if len(mine) <= INDICATOR_MAX_READINGS:
        return mine, len(mine)
    target = Decimal(str(indicator.target))
    sign = 1 if indicator.direction is Direction.AT_LEAST else -1  # the worst values first

    def distance(reading: IndicatorReading) -> Decimal:
        return sign * (Decimal(str(reading.value)) - target)

    return sorted(mine, key=distance)[:INDICATOR_MAX_READINGS], len(mine)


def indicator_chart(indicators: Sequence[Indicator], values: Sequence[IndicatorReading]) -> bytes:
    """One panel per indicator: each reported value as a bar, the target as a dashed line."""
    chosen: Mapping[str, tuple[list[IndicatorReading], int]] = {
        indicator.code: _readings_to_show(indicator, values) for indicator in indicators
    }
    heights = [1.3 + 0.28 * max(len(chosen[i.code][0]), 1) for i in indicators] or [1.5]
    figure = _figure(8.0, 0.8 + sum(heights))
    figure.suptitle(labels.CHART_INDICATOR_TITLE, family=FONT, fontsize=12)
    if not indicators:
        figure.text(0.5, 0.5, labels.CHART_INDICATOR_NO_VALUES, ha="center", va="center")
        return _png(figure)
    grid = figure.add_gridspec(len(indicators), 1, height_ratios=heights)
    for row, indicator in enumerate(indicators):
        shown, total = chosen[indicator.code]
        axes = figure.add_subplot(grid[row])
        _indicator_panel(axes, indicator, shown)
        if len(shown) < total:
            note = labels.CHART_INDICATOR_SHOWN.format(shown=len(shown), total=total)
            axes.set_title(note, fontsize=8, loc="right", y=1.0)
    return _png(figure)
