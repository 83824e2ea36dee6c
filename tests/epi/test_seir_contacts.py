"""Contact matrices: the shipped Japan/Tokyo tables and user matrices.

The shipped tables are Mistry et al. (2021), transcribed from
mobs-lab/mixing-patterns; their published construction makes them reciprocal
(N_i M_ij = N_j M_ji), so reciprocity to rounding also proves the transcription.
"""

from __future__ import annotations

import numpy as np
import pytest

from kumin.epi.contact_matrices import (
    MODEL_BANDS,
    contact_matrix_from_array,
    japan_contact_matrix,
    model_band_of,
)
from kumin.errors import DataError, ParameterError


@pytest.mark.parametrize("region", ["japan", "tokyo"])
def test_shipped_matrix_is_reciprocal_in_published_bands(region):
    cm = japan_contact_matrix(region, bands="5y")
    assert cm.matrix.shape == (18, 18)
    assert cm.bands[0] == "0-4" and cm.bands[-1] == "85+"
    assert cm.reciprocity_error() < 1e-12


def test_japan_population_and_mean_contacts():
    cm = japan_contact_matrix("japan", bands="5y")
    # Japan's population in the authors' age distribution file
    assert cm.population.sum() == 124_246_565
    mean_contacts = (cm.population[:, None] * cm.matrix).sum() / cm.population.sum()
    assert mean_contacts == pytest.approx(12.352, abs=1e-3)


@pytest.mark.parametrize("region", ["japan", "tokyo"])
def test_ten_year_bands_keep_reciprocity_and_total_contacts(region):
    fine = japan_contact_matrix(region, bands="5y")
    coarse = japan_contact_matrix(region)
    assert coarse.bands == MODEL_BANDS
    assert coarse.reciprocity_error() < 1e-12
    total_fine = (fine.population[:, None] * fine.matrix).sum()
    total_coarse = (coarse.population[:, None] * coarse.matrix).sum()
    assert total_coarse == pytest.approx(total_fine, rel=1e-12)
    assert coarse.population.sum() == pytest.approx(fine.population.sum())


def test_children_mix_most_with_children():
    cm = japan_contact_matrix()
    assert np.argmax(cm.matrix[1]) == 1  # 10-19 year olds: school contacts dominate
    assert cm.matrix[1].sum() > cm.matrix[8].sum()


def test_symmetrised_fixes_a_survey_matrix():
    cm = contact_matrix_from_array([[2.0, 3.0], [0.5, 1.0]], [100, 200], ["a", "b"])
    assert cm.reciprocity_error() > 0.1
    fixed = cm.symmetrised()
    assert fixed.reciprocity_error() < 1e-15
    # total contacts between the groups: mean of 100*3 and 200*0.5
    assert fixed.matrix[0, 1] * 100 == pytest.approx(200.0)


def test_aggregate_rejects_incomplete_grouping():
    cm = japan_contact_matrix()
    with pytest.raises(ParameterError):
        cm.aggregate({"young": ["0-9", "10-19"]})
    with pytest.raises(ParameterError):
        cm.aggregate({"all": [*cm.bands, "100+"]})


@pytest.mark.parametrize(
    ("matrix", "population"),
    [
        ([[1.0, -1.0], [1.0, 1.0]], [1, 1]),
        ([[1.0, np.nan], [1.0, 1.0]], [1, 1]),
        ([[1.0, 1.0, 1.0]], [1]),
        ([[1.0, 1.0], [1.0, 1.0]], [1, 0]),
        ([[1.0, 1.0], [1.0, 1.0]], [1, 2, 3]),
        ("text", [1]),
    ],
)
def test_user_matrix_validation(matrix, population):
    with pytest.raises(DataError):
        contact_matrix_from_array(matrix, population)


def test_user_matrix_labels_length():
    with pytest.raises(DataError):
        contact_matrix_from_array([[1.0]], [10], ["a", "b"])


def test_notification_bands_map_to_model_bands():
    assert model_band_of("10歳未満") == "0-9"
    assert model_band_of("20代") == "20-29"
    assert model_band_of("80代") == "80+"
    assert model_band_of("90代") == "80+"
    assert model_band_of("100歳以上") == "80+"
    assert model_band_of("70-79") == "70-79"
    assert model_band_of("90+") == "80+"
    with pytest.raises(ParameterError):
        model_band_of("unknown")


def test_unknown_band_message_in_both_languages():
    with pytest.raises(ParameterError) as info:
        model_band_of("五十代")
    assert "五十代" in info.value.render("ja")
    assert "Unknown age band" in info.value.render("en")
