"""Age contact matrices for Japan, and the age bands the SEIR model runs on.

The shipped matrices are the synthetic contact matrices of Mistry et al. (2021)
for Japan (country level) and Tokyo (都), as published by their authors in the
repository mobs-lab/mixing-patterns (files
``data/contact_matrices/Japan_country_level_M_overall_contact_matrix_18.csv``,
``data/contact_matrices/Japan_subnational_Tokyo-to_M_overall_contact_matrix_18.csv``
and the matching ``data/age_distributions/*_age_distribution_18.csv``, commits
1a28882617ca and 250322564931), transcribed unchanged into ``epi/data/``:

    Mistry D, Litvinova M, Pastore y Piontti A, et al. Inferring high-resolution
    human mixing patterns for disease modeling. Nat Commun 12, 323 (2021).
    https://doi.org/10.1038/s41467-020-20544-y

Element ``M[i, j]`` is the mean number of contacts a person in band ``i`` has per
day with people in band ``j`` (household, school, work and community settings
combined with the authors' weights 4.11, 11.41, 8.07, 2.79). The tables are in
18 five-year bands (0-4, ..., 80-84, 85+) and are reciprocal to rounding:
``N[i] * M[i, j] == N[j] * M[j, i]`` with the populations shipped beside them,
which also checks the transcription (``tests/epi/test_seir_contacts.py``).

The model's default bands are ten-year bands 0-9, ..., 70-79 and 80+: the
notification records (HER-SYS) use 0-9, ..., 80-89, 90+, but the matrix does not
separate people over 85, so 80-89 and 90+ are merged into 80+
(:func:`model_band_of`). Aggregation keeps reciprocity: the contacts of a coarse
band are the population-weighted mean over its fine participant bands, summed
over the fine contact bands.

Users can supply any matrix of their own with :func:`contact_matrix_from_array`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import numpy as np
import polars as pl

from kumin.errors import DataError, ParameterError

__all__ = [
    "MODEL_BANDS",
    "NOTIFICATION_BANDS",
    "ContactMatrix",
    "contact_matrix_from_array",
    "japan_contact_matrix",
    "model_band_of",
]

MODEL_BANDS: tuple[str, ...] = (
    "0-9",
    "10-19",
    "20-29",
    "30-39",
    "40-49",
    "50-59",
    "60-69",
    "70-79",
    "80+",
)
NOTIFICATION_BANDS: tuple[str, ...] = (*MODEL_BANDS[:-1], "80-89", "90+")

_SOURCES = {
    "japan": "Mistry et al. (2021) Nat Commun 12:323, Japan (mobs-lab/mixing-patterns)",
    "tokyo": "Mistry et al. (2021) Nat Commun 12:323, Tokyo-to (mobs-lab/mixing-patterns)",
}


@dataclass(frozen=True)
class ContactMatrix:
    """Daily contacts between age bands, with the population they refer to.

    Attributes
    ----------
    bands : tuple of str
        Band labels such as ``"0-9"`` or ``"80+"``, youngest first.
    matrix : numpy.ndarray
        ``matrix[i, j]``: mean contacts per day of one person in band ``i`` with
        people in band ``j`` (rows are participants).
    population : numpy.ndarray
        People in each band.
    source : str
        Where the numbers come from.
    """

    bands: tuple[str, ...]
    matrix: np.ndarray
    population: np.ndarray
    source: str = "user"

    def reciprocity_error(self) -> float:
        """Largest relative gap between ``N_i M_ij`` and ``N_j M_ji`` (0 when reciprocal)."""
        total = self.population[:, None] * self.matrix
        scale = np.maximum(total + total.T, 1e-300)
        return float(np.max(2.0 * np.abs(total - total.T) / scale))

    def symmetrised(self) -> ContactMatrix:
        """The reciprocal matrix nearest in the usual sense: average the two directions.

        Survey matrices are rarely reciprocal; ``(N_i M_ij + N_j M_ji) / 2N_i``
        is the standard correction (as socialmixr's ``symmetric = TRUE``).
        """
        total = self.population[:, None] * self.matrix
        fixed = (total + total.T) / 2.0 / self.population[:, None]
        return ContactMatrix(self.bands, fixed, self.population.copy(), self.source)

    def aggregate(
        self, groups: dict[str, list[str]] | list[tuple[str, list[str]]]
    ) -> ContactMatrix:
        """Merge bands, e.g. ``{"0-19": ["0-9", "10-19"], ...}`` (in order, covering all).

        Examples
        --------
        >>> cm = japan_contact_matrix()
        >>> two = cm.aggregate({"0-39": list(cm.bands[:4]), "40+": list(cm.bands[4:])})
        >>> two.bands, round(two.reciprocity_error(), 12)
        (('0-39', '40+'), 0.0)
        """
        items = list(groups.items()) if isinstance(groups, dict) else list(groups)
        index = {b: i for i, b in enumerate(self.bands)}
        used: list[str] = [b for _, members in items for b in members]
        unknown = [b for b in used if b not in index]
        if unknown:
            raise ParameterError(
                "epi.seir.unknown_band", band=unknown[0], known=", ".join(self.bands)
            )
        if sorted(used) != sorted(self.bands) or len(used) != len(set(used)):
            raise ParameterError("epi.seir.bad_grouping", known=", ".join(self.bands))
        member_idx = [np.array([index[b] for b in members]) for _, members in items]
        n = self.population
        k = len(items)
        out = np.empty((k, k))
        pop = np.array([n[m].sum() for m in member_idx])
        for a, ma in enumerate(member_idx):
            for b, mb in enumerate(member_idx):
                out[a, b] = (n[ma][:, None] * self.matrix[np.ix_(ma, mb)]).sum() / pop[a]
        return ContactMatrix(tuple(name for name, _ in items), out, pop, self.source)

    def to_frame(self) -> pl.DataFrame:
        """Long frame ``participant, contact, contacts`` for tables and heat maps."""
        k = len(self.bands)
        return pl.DataFrame(
            {
                "participant": [b for b in self.bands for _ in range(k)],
                "contact": list(self.bands) * k,
                "contacts": self.matrix.reshape(-1),
            }
        )


def _read_table(name: str) -> tuple[list[str], np.ndarray]:
    text = (resources.files("kumin.epi") / "data" / name).read_text("utf-8")
    frame = pl.read_csv(text.encode("utf-8"))
    first = frame.columns[0]
    return frame[first].to_list(), frame.drop(first).to_numpy().astype(np.float64)


def japan_contact_matrix(region: str = "japan", bands: str = "10y") -> ContactMatrix:
    """The Mistry et al. (2021) contact matrix for Japan or Tokyo.

    Parameters
    ----------
    region : {"japan", "tokyo"}
        Country-level matrix and population, or Tokyo-to's.
    bands : {"10y", "5y"}
        ``"10y"``: the model bands 0-9, ..., 70-79, 80+ (:data:`MODEL_BANDS`);
        ``"5y"``: the published 18 bands 0-4, ..., 80-84, 85+.

    Returns
    -------
    ContactMatrix

    Examples
    --------
    >>> cm = japan_contact_matrix()
    >>> cm.bands[-1], cm.matrix.shape
    ('80+', (9, 9))
    >>> round(float(cm.population.sum() / 1e6), 1)
    124.2
    """
    if region not in _SOURCES:
        raise ParameterError(
            "epi.param.choice",
            name="region",
            owner="japan_contact_matrix",
            choices="'japan', 'tokyo'",
            got=repr(region),
        )
    if bands not in ("10y", "5y"):
        raise ParameterError(
            "epi.param.choice",
            name="bands",
            owner="japan_contact_matrix",
            choices="'10y', '5y'",
            got=repr(bands),
        )
    fine_bands, matrix = _read_table(f"{region}_contacts_mistry2021_5y.csv")
    pop_bands, pops_all = _read_table("population_mistry2021_5y.csv")
    pops = pops_all[:, list(_SOURCES).index(region)]
    assert pop_bands == fine_bands  # both files come from the same release
    fine = ContactMatrix(tuple(fine_bands), matrix, pops, _SOURCES[region])
    if bands == "5y":
        return fine
    groups = [(MODEL_BANDS[i], [fine_bands[2 * i], fine_bands[2 * i + 1]]) for i in range(8)]
    groups.append(("80+", ["80-84", "85+"]))
    return fine.aggregate(groups)


def contact_matrix_from_array(
    matrix, population, bands: list[str] | tuple[str, ...] | None = None, source: str = "user"
) -> ContactMatrix:
    """A user's own contact matrix, validated.

    Parameters
    ----------
    matrix : array-like, shape (k, k)
        Mean daily contacts of a person in band ``i`` (row) with band ``j``.
    population : array-like, shape (k,)
        People per band (positive).
    bands : sequence of str, optional
        Labels; default :data:`MODEL_BANDS` when ``k == 9``, else ``"band1"``...
    source : str
        A citation or description kept with the matrix.

    Examples
    --------
    >>> cm = contact_matrix_from_array([[2.0, 1.0], [0.5, 3.0]], [100, 200], ["young", "old"])
    >>> cm.reciprocity_error()
    0.0
    """
    try:
        m = np.asarray(matrix, dtype=np.float64)
        n = np.asarray(population, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("epi.data.not_numeric", name="contact matrix") from None
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise DataError(
            "epi.data.shape_mismatch", name="contact matrix", got=m.shape, expected="(k, k)"
        )
    k = m.shape[0]
    if n.shape != (k,):
        raise DataError("epi.data.shape_mismatch", name="population", got=n.shape, expected=(k,))
    if not np.all(np.isfinite(m)) or (m < 0).any():
        raise DataError("epi.seir.contacts_invalid")
    if not np.all(np.isfinite(n)) or (n <= 0).any():
        raise DataError("epi.seir.population_invalid")
    if bands is None:
        bands = MODEL_BANDS if k == len(MODEL_BANDS) else tuple(f"band{i + 1}" for i in range(k))
    if len(bands) != k:
        raise DataError("epi.data.labels_length", name="bands", got=len(bands), expected=k)
    return ContactMatrix(tuple(str(b) for b in bands), m.copy(), n.copy(), source)


_JA_DECADE = re.compile(r"^(\d+)代$")


def model_band_of(label: str) -> str:
    """The model band (:data:`MODEL_BANDS`) of a notification record's age band.

    Accepts ``"0-9"``...``"80-89"``, ``"90+"``, and the Japanese labels of HER-SYS
    exports: ``"10歳未満"``, ``"10代"``...``"90代"``, ``"100歳以上"``. People over 80 all
    map to ``"80+"`` because the contact matrix does not separate them.

    Examples
    --------
    >>> [model_band_of(x) for x in ["10歳未満", "30代", "80-89", "90+", "100歳以上"]]
    ['0-9', '30-39', '80+', '80+', '80+']
    """
    text = str(label).strip()
    if text in MODEL_BANDS:
        return text
    if text in ("80-89", "90+", "100歳以上", "90歳以上"):
        return "80+"
    if text in ("10歳未満", "0-4", "5-9"):
        return "0-9"
    match = _JA_DECADE.match(text)
    if match:
        decade = int(match.group(1))
        if decade >= 80:
            return "80+"
        if decade % 10 == 0 and decade >= 10:
            return f"{decade}-{decade + 9}"
    raise ParameterError("epi.seir.unknown_band", band=text, known=", ".join(NOTIFICATION_BANDS))
