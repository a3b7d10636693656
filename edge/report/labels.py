"""Names of the modes of transport and of a factor's source, in the reader's language (report page and console)."""

from __future__ import annotations

from edge.i18n import Formatter
from edge.report.factors import NO_TRIP, Factor


def mode_label(mode: str, fmt: Formatter) -> str:
    """`voiture (thermique)` for `car`; a mode of the site's own keeps its name."""
    labels = {
        "car": fmt.gettext("car (thermal)"),
        "car_petrol": fmt.gettext("car (petrol)"),
        "car_diesel": fmt.gettext("car (diesel)"),
        "car_hybrid": fmt.gettext("car (hybrid)"),
        "car_electric": fmt.gettext("car (electric)"),
        "carpool": fmt.gettext("carpool (2 people)"),
        "bus": fmt.gettext("bus"),
        "bus_electric": fmt.gettext("bus (electric)"),
        "coach": fmt.gettext("coach"),
        "train_ter": fmt.gettext("regional train (TER)"),
        "train_intercites": fmt.gettext("Intercités train"),
        "train_tgv": fmt.gettext("high-speed train (TGV)"),
        "rer": fmt.gettext("RER, Transilien"),
        "tram": fmt.gettext("tram"),
        "metro": fmt.gettext("metro"),
        "bike": fmt.gettext("bike"),
        "ebike": fmt.gettext("electric bike"),
        "escooter": fmt.gettext("electric kick scooter"),
        "scooter": fmt.gettext("motor scooter"),
        "scooter_electric": fmt.gettext("electric motor scooter"),
        "motorbike": fmt.gettext("motorbike"),
        "walk": fmt.gettext("walking"),
        "home": fmt.gettext("would have worked from home"),
    }
    return labels.get(mode, mode)


def factor_source(mode: str, factor: Factor, fmt: Formatter) -> str:
    """Where a factor comes from: its source, dataset and year; "figure given by the site" without a source."""
    if mode in NO_TRIP:
        return fmt.gettext("no trip")
    if not factor.sourced:
        return fmt.gettext("figure given by the site")
    text = str(factor.source)
    if factor.dataset:
        text += f", {factor.dataset}"
    if factor.year:
        text += f" ({factor.year})"
    return text
