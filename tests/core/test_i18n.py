"""Both catalogues hold the same keys, and every key the code uses exists."""

from __future__ import annotations

import re
from pathlib import Path

from kumin.core.i18n import catalogue

SRC = Path(__file__).resolve().parents[2] / "src" / "kumin"
KEY = re.compile(
    r"""["']((?:core|cases|epi|resources|cards|juki|oplog|reports|governance|closures|operational)"""
    r"""\.[a-z_0-9]+(?:\.[a-z_0-9]+)+)["']"""
)


def test_catalogues_have_the_same_keys():
    ja, en = set(catalogue("ja")), set(catalogue("en"))
    assert not ja - en, f"missing in English: {sorted(ja - en)}"
    assert not en - ja, f"missing in Japanese: {sorted(en - ja)}"


def test_every_key_used_in_code_exists():
    known = set(catalogue("ja"))
    used = set()
    for path in SRC.rglob("*"):
        if path.suffix in (".py", ".html"):
            used |= set(KEY.findall(path.read_text("utf-8")))
    # dynamic keys are built as prefix + value: check their prefixes instead
    missing = sorted(k for k in used if k not in known and not k.endswith("."))
    modules = {"kumin.core", "kumin.cli", "kumin.web"}
    missing = [k for k in missing if not any(k.startswith(m) for m in modules)]
    assert not missing, f"message keys used but not in the catalogue: {missing}"


def test_placeholders_match():
    ja, en = catalogue("ja"), catalogue("en")
    field = re.compile(r"\{(\w+)\}")
    for key in ja.keys() & en.keys():
        assert set(field.findall(ja[key])) == set(field.findall(en[key])), key
