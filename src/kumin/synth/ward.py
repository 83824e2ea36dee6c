"""A Setagaya-like ward: the 61 real town names (町名) of Setagaya with plausible
populations and an age structure, for demos and tests.

Town names and their 丁目 counts follow Setagaya's 住居表示 (61 towns, 277
丁目 in all). Populations are *plausible, not official*: shaped by each town's
number of 丁目 and housing density, scaled to about 920,000 residents (the
ward's population in 2021–2022). The age structure approximates the ward's
resident register of that period (young adults over-represented, as in
central Tokyo).

>>> ward = setagaya_like_ward()
>>> len(ward.towns), ward.population
(61, 920000)
>>> ward.town("三軒茶屋").chome
2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (town, 丁目 count, relative density) by the ward's five districts. 丁目 = 0 for
# towns without 丁目 (the two parks). Density 1.0 = a typical residential town.
_TOWNS: tuple[tuple[str, int, float], ...] = (
    # 世田谷地域
    ("池尻", 4, 1.1), ("三宿", 2, 1.0), ("太子堂", 5, 1.3), ("若林", 5, 1.1),
    ("三軒茶屋", 2, 1.4), ("下馬", 6, 1.1), ("上馬", 5, 1.1), ("野沢", 4, 0.9),
    ("世田谷", 4, 1.2), ("桜", 3, 0.9), ("弦巻", 5, 1.0), ("宮坂", 3, 1.0),
    ("桜丘", 5, 1.0), ("経堂", 5, 1.2), ("豪徳寺", 2, 1.0), ("梅丘", 3, 1.1),
    ("駒沢", 5, 1.0),
    # 北沢地域
    ("代沢", 5, 1.0), ("代田", 6, 1.1), ("北沢", 5, 1.3), ("大原", 2, 1.3),
    ("羽根木", 2, 1.0), ("松原", 6, 1.1), ("赤堤", 5, 0.9), ("桜上水", 5, 1.0),
    # 玉川地域
    ("奥沢", 8, 0.9), ("東玉川", 2, 0.8), ("玉川田園調布", 2, 0.4), ("玉堤", 2, 0.7),
    ("尾山台", 3, 0.9), ("等々力", 8, 1.0), ("中町", 5, 0.9), ("上野毛", 4, 0.8),
    ("野毛", 3, 0.8), ("玉川", 4, 1.0), ("瀬田", 5, 0.8), ("用賀", 4, 1.2),
    ("上用賀", 6, 0.8), ("玉川台", 2, 1.0), ("深沢", 8, 0.9), ("新町", 3, 0.9),
    ("桜新町", 2, 1.0), ("駒沢公園", 0, 0.0),
    # 砧地域
    ("砧", 8, 0.9), ("砧公園", 0, 0.0), ("大蔵", 6, 0.7), ("岡本", 3, 0.6),
    ("鎌田", 4, 0.7), ("宇奈根", 3, 0.6), ("喜多見", 9, 0.8), ("成城", 9, 0.8),
    ("祖師谷", 6, 1.0), ("千歳台", 6, 0.9), ("船橋", 7, 1.0),
    # 烏山地域
    ("上祖師谷", 7, 0.8), ("粕谷", 4, 0.9), ("南烏山", 6, 1.1), ("北烏山", 9, 0.7),
    ("給田", 5, 0.8), ("八幡山", 3, 1.0), ("上北沢", 5, 1.0),
)  # fmt: skip

#: Share of residents by age band (approximating the ward's register, 2021).
AGE_SHARES: dict[str, float] = {
    "0-9": 0.086, "10-19": 0.080, "20-29": 0.128, "30-39": 0.148, "40-49": 0.165,
    "50-59": 0.148, "60-69": 0.098, "70-79": 0.088, "80-89": 0.048, "90-99": 0.0105,
    "100+": 0.0005,
}  # fmt: skip


@dataclass(frozen=True)
class Town:
    """One town (町). ``chome`` is its number of 丁目 (0 = none)."""

    name: str
    population: int
    chome: int
    district: str


@dataclass(frozen=True)
class Ward:
    """A synthetic ward: towns with populations and an age structure."""

    name: str
    towns: tuple[Town, ...]
    age_shares: dict[str, float]

    @property
    def population(self) -> int:
        return sum(t.population for t in self.towns)

    @property
    def town_names(self) -> list[str]:
        return [t.name for t in self.towns]

    def town(self, name: str) -> Town:
        for t in self.towns:
            if t.name == name:
                return t
        raise KeyError(name)

    def town_weights(self) -> np.ndarray:
        """Each town's share of the population (sums to 1)."""
        pop = np.array([t.population for t in self.towns], dtype=float)
        return pop / pop.sum()

    def age_band_populations(self) -> dict[str, int]:
        """Residents per age band (rounded; sums to about the ward's population)."""
        return {b: round(s * self.population) for b, s in self.age_shares.items()}


_DISTRICT_BOUNDS = (("世田谷", 17), ("北沢", 25), ("玉川", 43), ("砧", 54), ("烏山", 61))


def setagaya_like_ward(population: int = 920_000) -> Ward:
    """The Setagaya-like ward with ``population`` residents (deterministic).

    Parameters
    ----------
    population : int
        Total residents; towns get shares proportional to 丁目 × density, the
        two parks a handful of residents (park keepers' lodgings).
    """
    weights = np.array([max(ch, 1) * dens for _, ch, dens in _TOWNS])
    parks = weights == 0
    park_people = 6
    rest = population - park_people * int(parks.sum())
    raw = weights / weights.sum() * rest
    pops = np.floor(raw).astype(int)
    # Largest remainders so that the total is exact.
    short = rest - int(pops.sum())
    pops[np.argsort(-(raw - pops), kind="stable")[:short]] += 1
    pops[parks] = park_people
    towns = []
    for i, (name, chome, _) in enumerate(_TOWNS):
        district = next(d for d, end in _DISTRICT_BOUNDS if i < end)
        towns.append(Town(name, int(pops[i]), chome, district))
    return Ward("世田谷区", tuple(towns), dict(AGE_SHARES))
