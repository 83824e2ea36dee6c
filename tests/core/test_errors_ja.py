"""A parameter error reads in Japanese, constraint included (#14)."""

from __future__ import annotations

import re

import pytest

from kumin.errors import ParameterError, constraint_ja


@pytest.mark.parametrize(
    ("english", "japanese"),
    [
        ("an int in [1, 16]", "[1, 16] の範囲の整数"),
        ("a float in (0, 1)", "(0, 1) の範囲の実数"),
        ("a float > 0", "0 より大きい実数"),
        (
            "a float in (0, 86400] when the data lack mean_handle_seconds",
            "(0, 86400] の範囲の実数（データに mean_handle_seconds がない場合）",
        ),
    ],
)
def test_constraints_in_japanese(english, japanese):
    assert constraint_ja(english) == japanese


def test_a_parameter_error_has_no_english_in_japanese():
    err = ParameterError(
        "resources.parameter",
        name="service_level",
        owner="staffing",
        constraint="a float in (0, 1)",
        got="2",
    )
    ja = err.render("ja")
    assert "(0, 1) の範囲の実数" in ja and not re.search(r"\b(a|an) (float|int)\b", ja)
    assert "must be a float in (0, 1)" in err.render("en")  # English keeps scikit-learn's form
