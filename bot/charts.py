"""The coordinator's charts as pictures: the reporting rate per period, the unit × period heat
map and, when the plan sets numeric targets, the indicators against them.

``/tonghop`` sends them after its text (the text stays: the pictures add to it). Each is a
:class:`DocumentReply` with an image type: Telegram sends it as a photo, the console saves it,
Zalo (whose ``sendPhoto`` takes only a URL) says where to see it. The coordinator's digest carries
the same pictures, stored with its outbox row.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import texts
from bot.dialog.events import DocumentReply
from bot.document_data import indicator, indicator_readings, period_counts_of, state_matrix
from documents.charts import indicator_chart, reporting_rate_chart, unit_period_heatmap
from storage import overview_counts
from storage.formats import fmt_datetime
from storage.indicator_standing import Standing, indicator_standings
from storage.read_models import Overview, Totals, totals_of

PNG_MIME = "image/png"
HEATMAP_LIMIT = 200  # units (a province): above, the grid is left to the dashboard and /xuat


def overview_charts(
    session: Session, overview: Overview | Totals, standings: Sequence[Standing] | None = None
) -> list[DocumentReply]:
    """The pictures of ``overview`` (an overview read in full, or its counts): nothing when it
    has no unit or no period. The heat map only up to :data:`HEATMAP_LIMIT` units (the
    dashboard and the Excel file have every unit); the rate chart needs only the totals; the
    indicators' from ``standings`` (read here when not given)."""
    totals = overview if isinstance(overview, Totals) else totals_of(overview)
    plan = totals.plan
    assert plan.id is not None
    if not totals.units or not totals.periods:
        return []
    zone = ZoneInfo(plan.timezone)
    stamp = totals.now.astimezone(zone).strftime("%Y%m%d-%H%M")
    charts = [
        _picture(
            f"ty-le-bao-cao-{plan.code}-{stamp}.png",
            reporting_rate_chart([period_counts_of(stats) for stats in totals.stats]),
            texts.CHART_RATE_CAPTION.format(
                number=plan.number, time=fmt_datetime(totals.now, zone)
            ),
        )
    ]
    if totals.units <= HEATMAP_LIMIT:
        full = (
            overview
            if isinstance(overview, Overview)
            else overview_counts.full_overview(session, totals)
        )
        matrix = state_matrix(full)
        charts.append(
            _picture(
                f"don-vi-theo-ky-{plan.code}-{stamp}.png",
                unit_period_heatmap(matrix.units, matrix.periods, matrix.rows),
                texts.CHART_HEATMAP_CAPTION.format(number=plan.number),
            )
        )
    if standings is None:
        standings = indicator_standings(session, plan_id=plan.id)
    if standings:
        shown = [indicator(standing.indicator) for standing in standings]
        chart = indicator_chart(shown, indicator_readings(standings))
        caption = texts.CHART_INDICATOR_CAPTION.format(number=plan.number)
        charts.append(_picture(f"chi-tieu-{plan.code}-{stamp}.png", chart, caption))
    return charts


def _picture(filename: str, content: bytes, caption: str) -> DocumentReply:
    return DocumentReply(filename=filename, content=content, mime_type=PNG_MIME, caption=caption)
