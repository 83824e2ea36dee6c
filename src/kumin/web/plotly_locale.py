"""Plotly in the reader's language: the chart tools' tool tips and date axes (#14).

Plotly's own texts ("Zoom", "Download plot as a PNG") and its month names ("Jan")
are English unless a locale is registered. The locale is built from the
catalogue (``core.plotly.*``) and handed to the page as a JSON data block that
``kumin.js`` registers before drawing: no inline script (CSP), no file to keep
in step with the catalogue.
"""

from __future__ import annotations

from typing import Any

from kumin.core.i18n import t

#: Plotly's English text → catalogue key
DICTIONARY = {
    "Autoscale": "autoscale",
    "Box Select": "box_select",
    "Compare data on hover": "compare",
    "Double-click to zoom back out": "double_click",
    "Double-click on legend to isolate one trace": "isolate",
    "Download plot as a PNG": "download_png",
    "Download plot as a png": "download_png",
    "Download plot as JSON": "download_json",
    "Download plot": "download",
    "Lasso Select": "lasso",
    "Pan": "pan",
    "Reset": "reset",
    "Reset axes": "reset_axes",
    "Reset view": "reset_view",
    "Reset views": "reset_view",
    "Show closest data on hover": "closest",
    "Toggle Spike Lines": "spikes",
    "Toggle show closest data on hover": "toggle_closest",
    "Zoom": "zoom",
    "Zoom in": "zoom_in",
    "Zoom out": "zoom_out",
    "Image download succeeded": "image_done",
    "Preparing image - this may take a few seconds": "image_wait",
    "Sorry, there was a problem downloading your image!": "image_failed",
}


def plotly_locale(lang: str) -> dict[str, Any]:
    """A Plotly locale module (``Plotly.register``) named after ``lang``."""

    def key(name: str) -> str:
        return t(f"core.plotly.{name}", lang)

    def names(name: str) -> list[str]:
        return key(name).split(",")

    return {
        "moduleType": "locale",
        "name": lang,
        "dictionary": {english: key(name) for english, name in DICTIONARY.items()},
        "format": {
            "days": names("days"),
            "shortDays": names("short_days"),
            "months": names("months"),
            "shortMonths": names("short_months"),
            "date": key("date"),
            "decimal": ".",
            "thousands": ",",
            "grouping": [3],
            "currency": ["¥", ""],
        },
    }
