"""Synthetic snapshots of the Ministry's national card figures, for the demo.

:func:`write_national_snapshots` writes ``static/data/<YYYYMMDD>/all_localgovs.csv``
files in the layout of codeforjapan/mynumbercard_statistics (see
:mod:`kumin.cards.national`), one per month from April 2020 to April 2022, for
Tokyo's 23 wards, three Tokyo cities and three large cities elsewhere. The ward's
own row follows its real monthly issuance (``kumin.synth.card_figures.SETAGAYA_ISSUED``);
the others follow the same curve scaled by a per-municipality factor drawn from
``seed``. A fresh clone without ``../shared/data`` still opens ``/cards/national``
on figures (#14); with the real files beside the clone the demo loads those.

Example
-------
>>> import tempfile, pathlib
>>> from kumin.cards.national import load_national
>>> with tempfile.TemporaryDirectory() as tmp:
...     root = write_national_snapshots(pathlib.Path(tmp), seed=0)
...     load_national(root).height
725
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from kumin.cards.national import COLUMNS, FILE_NAME, SETAGAYA, code6
from kumin.core.tabular import csv_bytes

#: (prefecture, municipality, 5-digit code, population in 2021, rounded)
MUNICIPALITIES = (
    ("東京都", "千代田区", 13101, 66_000),
    ("東京都", "中央区", 13102, 170_000),
    ("東京都", "港区", 13103, 260_000),
    ("東京都", "新宿区", 13104, 347_000),
    ("東京都", "文京区", 13105, 240_000),
    ("東京都", "台東区", 13106, 211_000),
    ("東京都", "墨田区", 13107, 275_000),
    ("東京都", "江東区", 13108, 524_000),
    ("東京都", "品川区", 13109, 422_000),
    ("東京都", "目黒区", 13110, 288_000),
    ("東京都", "大田区", 13111, 735_000),
    ("東京都", "世田谷区", 13112, 940_000),
    ("東京都", "渋谷区", 13113, 243_000),
    ("東京都", "中野区", 13114, 344_000),
    ("東京都", "杉並区", 13115, 590_000),
    ("東京都", "豊島区", 13116, 301_000),
    ("東京都", "北区", 13117, 355_000),
    ("東京都", "荒川区", 13118, 217_000),
    ("東京都", "板橋区", 13119, 584_000),
    ("東京都", "練馬区", 13120, 740_000),
    ("東京都", "足立区", 13121, 692_000),
    ("東京都", "葛飾区", 13122, 464_000),
    ("東京都", "江戸川区", 13123, 697_000),
    ("東京都", "八王子市", 13201, 579_000),
    ("東京都", "立川市", 13202, 185_000),
    ("東京都", "武蔵野市", 13203, 148_000),
    ("北海道", "札幌市", 1100, 1_961_000),
    ("神奈川県", "横浜市", 14100, 3_777_000),
    ("大阪府", "大阪市", 27100, 2_740_000),
)
FIRST = dt.date(2020, 4, 1)


def write_national_snapshots(root: Path, seed: int = 0) -> Path:
    """Write the monthly snapshots under ``root/static/data``; returns ``root``."""
    from kumin.synth.card_figures import SETAGAYA_ISSUED as _SETAGAYA_ISSUED

    rng = np.random.default_rng(seed)
    factors = rng.uniform(0.75, 1.2, len(MUNICIPALITIES))
    ward_population = next(p for *_, c, p in MUNICIPALITIES if code6(c) == SETAGAYA)
    header = [
        *(COLUMNS[k] for k in ("date", "pref", "municipality", "population", "cards", "rate")),
        COLUMNS["population_date"],
        "交付件数基準日",
        COLUMNS["code"],
    ]
    for text, ward_cards in _SETAGAYA_ISSUED:
        day = dt.date.fromisoformat(text)
        if day < FIRST:
            continue
        share = ward_cards / ward_population
        rows = []
        for (pref, name, code5, population), factor in zip(MUNICIPALITIES, factors, strict=True):
            own = code6(code5) == SETAGAYA
            cards = ward_cards if own else round(population * min(share * factor, 0.95))
            rows.append(
                [
                    day.strftime("%Y/%m/%d"),
                    pref,
                    name,
                    population,
                    cards,
                    round(100 * cards / population, 1),
                    f"{day.year}/01/01",
                    day.strftime("%Y/%m/%d"),
                    int(code6(code5)),  # an integer, as the Ministry writes it: 011002 → 11002
                ]
            )
        folder = root / "static" / "data" / day.strftime("%Y%m%d")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FILE_NAME).write_bytes(csv_bytes(header, rows))
    return root
