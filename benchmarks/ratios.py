"""The ratio every benchmark prints beside a figure: how far it is from missing its target."""

from __future__ import annotations


def met_ratio(value: float, relation: str, target: float) -> float:
    """≥ 1 when the target is met, whichever way it points: measured ÷ target for a floor
    (``>=``), target ÷ measured for a ceiling (``<``)."""
    if relation == ">=":
        return value / target
    return target / value if value else float("inf")
