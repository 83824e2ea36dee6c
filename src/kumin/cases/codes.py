"""Code values of notification records, read in Japanese or English.

Every reader takes the raw cell, folds it with NFKC (full-width letters and
digits, stray spaces) and returns a canonical value, ``None`` for an empty cell,
or raises :class:`InvalidCode` naming the accepted values.

Canonical values
----------------
- sex: ``male``, ``female``, ``other``, ``unknown``
- age band: ``0-9``, ``10-19``, …, ``90-99``, ``100+`` (see :data:`AGE_BANDS`)
- care setting: ``home``, ``hotel``, ``hospital``, ``facility``, ``pending``
- vaccine doses: ``0``–``3`` (int); ``不明`` gives ``None``
- symptoms: a text with items joined by ``、`` plus an ``asymptomatic`` flag
- imported: ``True`` (imported / 輸入 / 海外) or ``False`` (domestic / 国内)

>>> parse_sex("女性"), parse_age_band("10歳未満"), parse_care_setting("宿泊療養")
('female', '0-9', 'hotel')
>>> parse_symptoms("発熱・咳")
('発熱、咳', False)
"""

from __future__ import annotations

import re
from typing import Any

from kumin.core.cells import fold, normalise_text

AGE_BANDS: tuple[str, ...] = (
    "0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-89", "90-99", "100+",
)  # fmt: skip
SEXES = ("male", "female", "other", "unknown")
CARE_SETTINGS = ("home", "hotel", "hospital", "facility", "pending")

#: How each canonical code is written in HER-SYS exports (used by writers).
SEX_JA = {"male": "男性", "female": "女性", "other": "その他", "unknown": "不明"}
CARE_JA = {
    "home": "自宅",
    "hotel": "宿泊療養",
    "hospital": "入院",
    "facility": "施設",
    "pending": "調整中",
}
DOSES_JA = {0: "なし", 1: "1回", 2: "2回", 3: "3回"}

_UNKNOWN = {"不明", "unknown", "na", "n/a"}


class InvalidCode(ValueError):
    """A value outside a code list; ``params`` hold ``value`` and ``allowed``."""

    key = "cases.code.unknown"

    def __init__(self, value: str, allowed: str) -> None:
        self.params = {"value": value, "allowed": allowed}
        super().__init__(f"{value!r} is not one of: {allowed}")


def _fold(value: Any) -> str:
    # the one fold of written names, and no blanks inside a code ("10 代")
    return "".join(fold(value).split())


def _lookup(value: Any, table: dict[str, Any], allowed: str) -> Any:
    text = _fold(value)
    if not text:
        return None
    try:
        return table[text]
    except KeyError:
        raise InvalidCode(normalise_text(value), allowed) from None


_SEX = {
    **dict.fromkeys(["男性", "男", "m", "male", "1"], "male"),
    **dict.fromkeys(["女性", "女", "f", "female", "2"], "female"),
    **dict.fromkeys(["その他", "other", "x"], "other"),
    **dict.fromkeys(["不明", "unknown", "u", "0", "9"], "unknown"),
}


def parse_sex(value: Any) -> str | None:
    """性別: 男性/女性/男/女/M/F/その他/不明 (and male/female/other/unknown)."""
    return _lookup(value, _SEX, "男性, 女性, 男, 女, M, F, その他, 不明")


def _band_table() -> dict[str, str | None]:
    table: dict[str, str | None] = dict.fromkeys(_UNKNOWN)
    for band in AGE_BANDS:
        table[band] = band
    for key in ("10歳未満", "0歳代", "0代", "0-9歳", "under10", "<10", "0s"):
        table[key] = "0-9"
    for decade in range(1, 10):
        band = AGE_BANDS[decade]
        for key in (f"{decade}0代", f"{decade}0歳代", f"{decade}0s", f"{band}歳"):
            table[key] = band
    for key in ("100歳以上", "100代", "100歳代", "100over", "100s", "≥100"):
        table[key] = "100+"
    return table


_AGE_BAND = _band_table()


def parse_age_band(value: Any) -> str | None:
    """年代: ``10歳未満``, ``10代`` … ``90代``, ``100歳以上`` (or ``0-9`` … ``100+``)."""
    return _lookup(value, _AGE_BAND, "10歳未満, 10代 … 90代, 100歳以上, 不明")


def age_band_of(age: int) -> str:
    """The band of an age in completed years.

    >>> age_band_of(9), age_band_of(35), age_band_of(104)
    ('0-9', '30-39', '100+')
    """
    return AGE_BANDS[min(max(age, 0) // 10, 10)]


_CARE = {
    **dict.fromkeys(["自宅", "自宅療養", "home"], "home"),
    **dict.fromkeys(["宿泊療養", "宿泊", "ホテル", "hotel"], "hotel"),
    **dict.fromkeys(["入院", "入院中", "hospital", "hospitalised", "hospitalized"], "hospital"),
    **dict.fromkeys(["施設", "施設療養", "施設入所", "facility"], "facility"),
    **dict.fromkeys(["調整中", "pending"], "pending"),
    **dict.fromkeys(_UNKNOWN),
}


def parse_care_setting(value: Any) -> str | None:
    """療養先: 自宅/宿泊療養/入院/施設/調整中 → home/hotel/hospital/facility/pending
    (不明 → ``None``)."""
    return _lookup(value, _CARE, "自宅, 宿泊療養, 入院, 施設, 調整中")


_DOSES: dict[str, int | None] = {
    **dict.fromkeys(_UNKNOWN),
    **dict.fromkeys(["なし", "無", "無し", "未接種", "0回", "0", "none"], 0),
    **dict.fromkeys(["1回", "1", "1回目", "one"], 1),
    **dict.fromkeys(["2回", "2", "2回目", "two"], 2),
    **dict.fromkeys(["3回", "3", "3回目", "three"], 3),
}


def parse_vaccine_doses(value: Any) -> int | None:
    """ワクチン接種歴: なし/1回/2回/3回/不明 → 0–3, ``None`` when unknown."""
    return _lookup(value, _DOSES, "なし, 1回, 2回, 3回, 不明")


_ASYMPTOMATIC = {"無症状", "無症候", "無症候性", "asymptomatic", "なし", "無", "none"}
_SYMPTOM_SPLIT = re.compile(r"[、,;；/・\n]+")


def parse_symptoms(value: Any) -> tuple[str | None, bool | None]:
    """症状: free text or a list → (``、``-joined text, asymptomatic flag).

    ``無症状`` (or ``なし``) means asymptomatic; an empty cell says nothing.
    A list (from a JSON-minded export) is accepted too.

    >>> parse_symptoms("無症状")
    (None, True)
    >>> parse_symptoms(["発熱", "咳"])
    ('発熱、咳', False)
    """
    if isinstance(value, list | tuple):
        items = [normalise_text(v) for v in value]
    else:
        items = _SYMPTOM_SPLIT.split(normalise_text(value))
    items = [re.sub(r"\s+", " ", i).strip() for i in items]
    items = [i for i in items if i]
    if not items or all(i.lower() in _UNKNOWN for i in items):
        return None, None
    if all(i.lower() in _ASYMPTOMATIC for i in items):
        return None, True
    items = [i for i in items if i.lower() not in _ASYMPTOMATIC]
    return "、".join(items), False


_FLAG = {
    **dict.fromkeys(["1", "true", "yes", "y", "はい", "有", "あり", "○"], True),
    **dict.fromkeys(["0", "false", "no", "n", "いいえ", "無", "なし"], False),
    **dict.fromkeys(_UNKNOWN),
}


def parse_flag(value: Any) -> bool | None:
    """A yes/no cell: 1/0, true/false, はい/いいえ, 有/無."""
    return _lookup(value, _FLAG, "1, 0, はい, いいえ, 不明")


_IMPORTED = {
    **dict.fromkeys(["imported", "輸入", "輸入例", "海外", "国外", "1", "true"], True),
    **dict.fromkeys(["domestic", "国内", "国内例", "0", "false"], False),
    **dict.fromkeys(_UNKNOWN),
}


def parse_imported(value: Any) -> bool | None:
    """Imported vs domestic: imported/domestic, 輸入/国内, 海外/国内."""
    return _lookup(value, _IMPORTED, "imported, domestic, 輸入, 国内")


def parse_text(value: Any) -> str | None:
    """A free-text cell: NFKC-folded, inner runs of spaces collapsed, ``None`` if empty."""
    text = re.sub(r"\s+", " ", normalise_text(value)).strip()
    return text or None
