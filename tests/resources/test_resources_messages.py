"""Every message key the resources modules use exists, in Japanese and English."""

from __future__ import annotations

import re
import tomllib
from importlib import resources
from pathlib import Path

from kumin.core.i18n import catalogue

SOURCES = [
    "queueing.py",
    "calls.py",
    "staffing.py",
    "continuity.py",
    "profiles/__init__.py",
    "intraday.py",
    "calibration.py",
    "service.py",
]


def _keys(table: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in table.items():
        out |= _keys(value, f"{prefix}{key}.") if isinstance(value, dict) else {prefix + key}
    return out


def test_both_languages_hold_the_same_keys():
    folder = resources.files("kumin") / "messages"
    ja = _keys(tomllib.loads((folder / "ja" / "resources.toml").read_text("utf-8")))
    en = _keys(tomllib.loads((folder / "en" / "resources.toml").read_text("utf-8")))
    assert ja == en


def test_every_key_used_is_in_the_catalogue():
    root = Path(resources.files("kumin")) / "resources"
    used = set()
    for name in SOURCES:
        used |= set(
            re.findall(r'"((?:resources|core)\.[a-z_]+(?:\.[a-z_]+)*)"', (root / name).read_text())
        )
    assert used
    for lang in ("ja", "en"):
        missing = {k for k in used if k not in catalogue(lang)}
        assert not missing, (lang, missing)
