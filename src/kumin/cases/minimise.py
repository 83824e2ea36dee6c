"""Data minimisation for releases: town-level addresses, keyed pseudonyms and
small-cell suppression.

>>> town_name("東京都世田谷区三軒茶屋二丁目11番22号")
'三軒茶屋'
>>> suppress_count(3), suppress_count(12)
('<5', 12)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Mapping
from typing import Any

from kumin.errors import ParameterError

_KANJI_NUM = "〇一二三四五六七八九十百千"
# Where the part below the town begins: a numeral (Arabic, after NFKC, or kanji)
# followed by 丁目/番/号/a dash, any Arabic digit, or 番地 alone. Town names may
# themselves hold kanji numerals (三軒茶屋, 二子玉川, 八幡山, 千歳台), so a kanji
# numeral only counts when a block word or dash follows it.
_BELOW_TOWN = re.compile(
    rf"(?:[{_KANJI_NUM}]+(?:丁目|丁|番地|番|号|[-‐－ー―−の])|\d|丁目|番地|大字|字)"
)
_PREFIX = re.compile(r"^(?:東京都)?(?:[^区市町村\d]{1,4}区)?")


def town_name(address: str | None) -> str | None:
    """Cut an address to its town name (町名): drop 丁目, 番地 and everything after.

    A leading ``東京都`` and ward name (``世田谷区``) are dropped too, so the
    result is the name used inside the ward. Full-width digits are folded first.

    >>> town_name("太子堂２丁目３番４号"), town_name("北沢3-5-2"), town_name("成城")
    ('太子堂', '北沢', '成城')
    >>> town_name("八幡山三丁目") , town_name("二子玉川一丁目")
    ('八幡山', '二子玉川')
    """
    if address is None:
        return None
    text = "".join(unicodedata.normalize("NFKC", str(address)).split())
    text = _PREFIX.sub("", text, count=1)
    m = _BELOW_TOWN.search(text)
    if m:
        text = text[: m.start()]
    text = text.rstrip("-‐－ー―−、,")
    return text or None


def new_release_key() -> bytes:
    """32 random bytes: the pseudonym key of one release (destroy it on disposal)."""
    return secrets.token_bytes(32)


def pseudonym(identifier: str, key: bytes, length: int = 20) -> str:
    """A keyed pseudonym (HMAC-SHA256) of an identifier, stable within one key.

    The same HER-SYS ID gives the same pseudonym within a release and an
    unrelated one under another release's key; without the key it cannot be
    reversed or recomputed. IDs are NFKC-folded first so ``１２３`` equals ``123``.

    >>> k = bytes(32)
    >>> pseudonym("12345", k) == pseudonym("１２３４５", k)
    True
    >>> len(pseudonym("12345", k))
    20
    """
    if not isinstance(key, bytes | bytearray) or len(key) < 16:
        raise ParameterError("cases.minimise.bad_key", name="key", got=type(key).__name__)
    if not 8 <= length <= 52:
        raise ParameterError("cases.minimise.bad_length", got=length)
    text = unicodedata.normalize("NFKC", str(identifier)).strip()
    digest = hmac.new(bytes(key), text.encode("utf-8"), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=")[:length]


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ParameterError("cases.minimise.bad_threshold", got=threshold)


def suppress_count(count: int, threshold: int = 5) -> int | str:
    """A count as published: 1 … threshold−1 become ``"<threshold"``; 0 stays 0.

    >>> suppress_count(0), suppress_count(4), suppress_count(5), suppress_count(9, threshold=10)
    (0, '<5', 5, '<10')
    """
    _check_threshold(threshold)
    if 0 < count < threshold:
        return f"<{threshold}"
    return count


def suppress_counts(counts: Mapping[Any, int], threshold: int = 5) -> dict[Any, int | str]:
    """:func:`suppress_count` over a mapping such as ``{"太子堂": 3, …}``.

    Only primary suppression: a caller publishing a total next to the cells
    should know that the total can reveal a single suppressed cell.
    """
    _check_threshold(threshold)
    return {k: suppress_count(v, threshold) for k, v in counts.items()}


def suppress_frame(frame: Any, count_column: str = "count", threshold: int = 5) -> Any:
    """Replace a polars count column by its published text (``"<5"`` or the number)."""
    import polars as pl

    _check_threshold(threshold)
    c = pl.col(count_column)
    return frame.with_columns(
        pl.when((c > 0) & (c < threshold))
        .then(pl.lit(f"<{threshold}"))
        .otherwise(c.cast(pl.Utf8))
        .alias(count_column)
    )


#: Report No. 350's item names → record fields (the ``hersys`` profile's columns).
REPORT_ITEMS: dict[str, str] = {
    "HER-SYS ID": "hersys_id",
    "生年月日": "birth_date",
    "年代": "age_band",
    "性別": "sex",
    "国籍": "nationality",
    "居住地": "residence",
    "住所（町名まで）": "address",
    "発病年月日": "onset_date",
    "初診年月日": "first_visit_date",
    "検体採取日": "specimen_date",
    "結果判明日": "result_date",
    "症状": "symptoms",
    "ワクチン接種歴": "vaccine_doses",
    "療養先": "care_setting",
}
_RELEASE_FIELDS = (
    "hersys_id", "birth_date", "age_band", "sex", "nationality", "residence", "address",
    "town", "onset_date", "first_visit_date", "specimen_date", "result_date", "report_date",
    "symptoms", "asymptomatic", "vaccine_doses", "care_setting", "imported", "age_years",
)  # fmt: skip


def release_fields(items: Any) -> list[str]:
    """Record fields for a contract's item list (report item names or field names).

    ``HER-SYS ID`` becomes ``pseudonym`` and ``住所（町名まで）`` becomes ``town``;
    ``age_band`` is always included (the report keeps 年代 when the birth date
    goes). Raises :class:`ParameterError` naming an unknown item.

    >>> release_fields(["HER-SYS ID", "住所（町名まで）", "発病年月日"])
    ['pseudonym', 'age_band', 'town', 'onset_date']
    """
    wanted = []
    for item in items:
        folded = unicodedata.normalize("NFKC", str(item)).strip().replace("(", "（")
        fld = REPORT_ITEMS.get(folded.replace(")", "）"), str(item).strip())
        if fld not in _RELEASE_FIELDS:
            raise ParameterError("cases.minimise.unknown_item", item=item)
        wanted.append(fld)
    out = []
    for fld in _RELEASE_FIELDS:
        if fld in wanted or fld == "age_band" or (fld == "town" and "address" in wanted):
            name = {"hersys_id": "pseudonym"}.get(fld, fld)
            if fld == "address":
                continue  # only the town leaves the office
            out.append(name)
    return out


def minimise_record(record: Any, items: Any, key: bytes) -> dict[str, Any]:
    """One record as a researcher receives it under a contract.

    Only the contract's items; the HER-SYS ID replaced by :func:`pseudonym`
    under the release ``key``; the address cut to the town; the birth date only
    if listed; the age band always.

    >>> from kumin.cases.parse import CaseRecord
    >>> import datetime as dt
    >>> r = CaseRecord("123", birth_date=dt.date(1970, 3, 2), age_band="50-59",
    ...                address="太子堂二丁目3番4号", town="太子堂")
    >>> out = minimise_record(r, ["HER-SYS ID", "住所（町名まで）"], bytes(32))
    >>> sorted(out), out["town"]
    (['age_band', 'pseudonym', 'town'], '太子堂')
    """
    out: dict[str, Any] = {}
    for name in release_fields(items):
        if name == "pseudonym":
            out[name] = pseudonym(record.hersys_id, key)
        elif name == "town":
            out[name] = record.town if record.town is not None else town_name(record.address)
        else:
            out[name] = getattr(record, name)
    return out
