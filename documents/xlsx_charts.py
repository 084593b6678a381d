"""The charts of :mod:`documents.charts` as native Excel charts, on a "Biểu đồ" sheet.

:func:`add_chart_sheet` writes the data rows the charts read, row after row, and anchors the
charts beside them, so it works on a normal workbook and on a write-only (streaming) one alike:
openpyxl's write-only worksheet takes ``append`` and ``add_chart`` and nothing that goes back to
an earlier row. The heat map has no native Excel chart type: it is the unit × period table itself,
each cell filled with its state's colour (the colours of the PNG charts).
"""

from __future__ import annotations

from collections.abc import Sequence
from copy import copy
from decimal import Decimal
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart._chart import ChartBase
from openpyxl.chart.label import DataLabelList
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from documents import labels
from documents.charts import STATE_COLOURS, STATE_ORDER, TARGET_COLOUR
from documents.model import (
    Indicator,
    IndicatorReading,
    PeriodCounts,
    ReportingState,
    StateMatrix,
)
from documents.xlsx_stream import Cells, Package, StreamedSheet

CHART_COLUMN = "J"  # charts sit right of the data, which takes at most the first columns
BOLD = Font(bold=True)
ROW_CM = 0.53  # Excel's default row height (15 points), to keep the charts apart


def _values_only() -> DataLabelList:
    """Data labels with the value alone (LibreOffice adds series and category names otherwise)."""
    return DataLabelList(
        showVal=True, showSerName=False, showCatName=False, showLegendKey=False, showPercent=False
    )


def _show_axes(chart: BarChart) -> None:
    """openpyxl marks axes deleted unless told otherwise; Excel then draws none."""
    chart.x_axis.delete = False
    chart.y_axis.delete = False


class _Rows:
    """Appends rows to a worksheet of either mode, or streams them into a package (the export
    of 10,000 units), and remembers the row number reached."""

    def __init__(
        self, sheet: Worksheet | WriteOnlyWorksheet, stream: tuple[Package, Cells] | None = None
    ) -> None:
        # The write-only sheet borrows append, add_chart and column_dimensions from Worksheet;
        # its stubs do not say so, hence the cast.
        self.sheet = cast(Worksheet, sheet)
        self.row = 0
        self._styles: dict[tuple[bool, str | None], Any] = {}
        self._stream = StreamedSheet(stream[0], sheet) if stream else None
        self._cells = stream[1] if stream else None
        self._state_cells: dict[ReportingState, str] = {}

    def append(
        self,
        values: Sequence[Any],
        *,
        bold: bool = False,
        colours: Sequence[str | None] = (),
    ) -> int:
        """Append a row (bold, or each cell filled with its colour); return its number."""
        if self._stream is not None:
            self.row = self._stream.append(self._streamed(values, bold, colours))
            return self.row
        cells: list[Any] = []
        for index, value in enumerate(values):
            cell = WriteOnlyCell(self.sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text from users stays text, even when it starts with "="
            colour = colours[index] if index < len(colours) else None
            if bold or colour:
                self._style(cell, bold, colour)
            cells.append(cell)
        self.sheet.append(cells)
        self.row += 1
        return self.row

    def state_row(self, label: str, states: Sequence[ReportingState]) -> int:
        """A row of the heat map: ``label``, then each state's name filled with its colour.
        Streamed, the row is joined from cells made once per state (10,000 units × 36
        periods: a cell at a time took most of a second), its text shared strings: the row is
        short ASCII text to encode and compress."""
        if self._stream is None or self._cells is None:
            names = [labels.STATE_LABELS[state] for state in states]
            return self.append([label, *names], colours=[None, *(STATE_COLOURS[s] for s in states)])
        if not self._state_cells:
            self._state_cells = {state: self._state_cell(state) for state in ReportingState}
        made = self._cells.shared(label, self._stream.package)
        self.row = self._stream.append(made + "".join(map(self._state_cells.__getitem__, states)))
        return self.row

    def _state_cell(self, state: ReportingState) -> str:
        assert self._stream is not None and self._cells is not None
        style = self._style_id(False, STATE_COLOURS[state])
        return self._cells.shared(labels.STATE_LABELS[state], self._stream.package, style)

    def _streamed(self, values: Sequence[Any], bold: bool, colours: Sequence[str | None]) -> str:
        assert self._cells is not None
        out = []
        for index, value in enumerate(values):
            colour = colours[index] if index < len(colours) else None
            style = 0
            if bold or colour:
                style = self._style_id(bold, colour)
            out.append(self._cells.cell(value, style))
        return "".join(out)

    def _style_id(self, bold: bool, colour: str | None) -> int:
        known = self._styles.get((bold, colour))
        if known is None:
            assert self._cells is not None
            fill = PatternFill("solid", fgColor=colour.lstrip("#").upper()) if colour else None
            attributes = {"font": BOLD} if bold else {}
            known = self._cells.style(self.sheet, **attributes, **({"fill": fill} if fill else {}))
            self._styles[bold, colour] = known
        return int(known)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _style(self, cell: Any, bold: bool, colour: str | None) -> None:
        """Bold and fill: registered with the workbook once per kind, then copied (openpyxl
        hashes a style each time it is set, the cost of a table of 10,000 units)."""
        known = self._styles.get((bold, colour))
        if known is not None:
            cell._style = copy(known)
            return
        if bold:
            cell.font = BOLD
        if colour:
            cell.fill = PatternFill("solid", fgColor=colour.lstrip("#").upper())
        self._styles[bold, colour] = copy(cell._style)

    def chart(self, chart: ChartBase, first: int) -> None:
        """Anchor ``chart`` at row ``first``, then leave blank rows until it ends."""
        self.sheet.add_chart(chart, f"{CHART_COLUMN}{first}")
        while self.row < first + int(chart.height / ROW_CM) + 1:
            self.append([])


def add_chart_sheet(
    workbook: Workbook,
    *,
    periods: Sequence[PeriodCounts],
    matrix: StateMatrix | None = None,
    indicators: Sequence[Indicator] = (),
    readings: Sequence[IndicatorReading] = (),
    package: Package | None = None,
    cells: Cells | None = None,
) -> Worksheet | WriteOnlyWorksheet:
    """Add the "Biểu đồ" sheet: reporting rate per period, the state table, the indicators.
    With ``package`` and ``cells`` (a write-only workbook), its rows are streamed into the
    package (:mod:`documents.xlsx_stream`)."""
    sheet: Worksheet | WriteOnlyWorksheet = workbook.create_sheet(labels.SHEET_CHARTS)
    for column, width in zip("ABCDEFGH", (34, 14, 14, 14, 14, 14, 14, 14), strict=True):
        cast(Worksheet, sheet).column_dimensions[column].width = width  # before any row
    rows = _Rows(sheet, (package, cells) if package and cells else None)
    _rate_block(rows, periods)
    if matrix is not None:
        rows.append([])
        _state_block(rows, matrix)
    for indicator in indicators:
        rows.append([])
        _indicator_block(rows, indicator, readings)
    rows.close()
    return sheet


def _rate_block(rows: _Rows, periods: Sequence[PeriodCounts]) -> None:
    """Counts per period and state, and a 100% stacked bar chart of them."""
    states = [state for state in STATE_ORDER if any(p.count(state) for p in periods)]
    heads = [labels.STATE_LABELS[state] for state in states]
    first = rows.append([labels.SHEET_PERIOD, *heads, labels.SHEET_TOTAL], bold=True)
    for period in periods:
        rows.append([period.label, *(period.count(state) for state in states), period.total])
    if not periods or not states:
        return
    chart = BarChart()
    chart.type, chart.grouping, chart.overlap = "col", "percentStacked", 100
    chart.title = labels.CHART_RATE_TITLE
    chart.y_axis.title = labels.CHART_RATE_AXIS
    data = Reference(
        rows.sheet, min_col=2, max_col=1 + len(states), min_row=first, max_row=rows.row
    )
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(rows.sheet, min_col=1, min_row=first + 1, max_row=rows.row))
    for series, state in zip(chart.series, states, strict=True):
        series.graphicalProperties.solidFill = STATE_COLOURS[state].lstrip("#")
        series.dLbls = _values_only()
    chart.width, chart.height = 18, 9
    _show_axes(chart)
    rows.chart(chart, first)


def _state_block(rows: _Rows, matrix: StateMatrix) -> None:
    """The unit × period table, each cell filled with its state's colour (the heat map)."""
    rows.append([labels.SHEET_UNIT, *matrix.periods], bold=True)
    for unit, states in zip(matrix.units, matrix.rows, strict=True):
        rows.state_row(unit.label, states)


def _indicator_block(
    rows: _Rows, indicator: Indicator, readings: Sequence[IndicatorReading]
) -> None:
    """One indicator: each unit's value and the target, as columns with the target's line."""
    mine = [reading for reading in readings if reading.indicator_code == indicator.code]
    rows.append([f"{labels.SHEET_INDICATOR}: {indicator.name}"], bold=True)
    unit_heading = f"{labels.SHEET_VALUE} ({indicator.unit})" if indicator.unit else None
    heads = [labels.SHEET_UNIT, unit_heading or labels.SHEET_VALUE, labels.SHEET_TARGET]
    first = rows.append(heads, bold=True)
    target = float(Decimal(str(indicator.target)))
    for reading in mine:
        rows.append([reading.unit_label, float(Decimal(str(reading.value))), target])
    if not mine:
        return
    bars = BarChart()
    bars.type, bars.varyColors = "col", False
    bars.title = indicator.name
    bars.y_axis.scaling.min = 0
    bars.add_data(
        Reference(rows.sheet, min_col=2, min_row=first, max_row=rows.row), titles_from_data=True
    )
    bars.set_categories(Reference(rows.sheet, min_col=1, min_row=first + 1, max_row=rows.row))
    bars.series[0].graphicalProperties.solidFill = STATE_COLOURS[STATE_ORDER[0]].lstrip("#")
    bars.series[0].dLbls = _values_only()
    line = LineChart()
    line.add_data(
        Reference(rows.sheet, min_col=3, min_row=first, max_row=rows.row), titles_from_data=True
    )
    line.series[0].graphicalProperties.line.solidFill = TARGET_COLOUR.lstrip("#")
    line.series[0].graphicalProperties.line.dashStyle = "dash"
    line.series[0].marker.symbol = "dash"  # a lone value still shows its target
    line.series[0].marker.size = 12
    bars += line  # both keep openpyxl's default axis ids: the target is on the values' scale
    bars.width = max(18, round(1.2 * len(mine)))
    _show_axes(bars)
    rows.chart(bars, first - 1)
