"""The governance context, thresholds, message catalogue and the pure-core rule."""

from __future__ import annotations

import ast
import datetime as dt
import tomllib
from pathlib import Path

import pytest
from tests.oplog._ward import ward_context

import kumin
from kumin.core.i18n import t
from kumin.errors import ParameterError
from kumin.oplog.context import Thresholds, closed_days, is_closed_day

SRC = Path(kumin.__file__).parent
MINE = [
    "oplog/logs.py",
    "oplog/context.py",
    "oplog/rules.py",
    "oplog/rules_subject.py",
    "oplog/scan.py",
    "synth/oplog.py",
]


def test_ledger_intervals_follow_versions_and_transfers():
    iv = ward_context().ledger_intervals.sort("department", "operator_id")
    rows = {
        (r["department"], r["operator_id"]): (r["listed_from"], r["listed_to"])
        for r in iv.iter_rows(named=True)
    }
    assert rows[("D01", "U2")] == (dt.date(2021, 4, 1), dt.date(2022, 4, 1))  # removed
    assert rows[("D01", "U1")] == (dt.date(2021, 4, 1), None)  # still listed
    assert rows[("D08", "U2")] == (dt.date(2022, 4, 1), None)  # transferred in


def test_closed_days_are_holidays_and_the_year_end():
    assert is_closed_day(dt.date(2021, 5, 3))  # 憲法記念日
    assert is_closed_day(dt.date(2021, 12, 30)) and not is_closed_day(dt.date(2021, 12, 30), False)
    assert not is_closed_day(dt.date(2021, 6, 1))
    assert closed_days(dt.date(2021, 12, 27), dt.date(2022, 1, 4)) == [
        dt.date(2021, 12, 29),
        dt.date(2021, 12, 30),
        dt.date(2021, 12, 31),
        dt.date(2022, 1, 1),
        dt.date(2022, 1, 2),
        dt.date(2022, 1, 3),
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("volume_z", 0, "The 'volume_z' parameter of Thresholds must be a float > 0. Got 0"),
        (
            "repeat_min_occasions",
            0,
            "The 'repeat_min_occasions' parameter of Thresholds must be an int in [1, 10001]",
        ),
        (
            "late_grace_minutes",
            -5,
            "The 'late_grace_minutes' parameter of Thresholds must be an int in [0, 10000]",
        ),
        (
            "year_end_closure",
            "yes",
            "The 'year_end_closure' parameter of Thresholds must be a bool",
        ),
    ],
)
def test_thresholds_reject_bad_values_with_a_clear_message(field, value, message):
    with pytest.raises(ParameterError) as err:
        Thresholds(**{field: value})
    assert str(err.value).startswith(message)
    assert field in err.value.render("ja")


def _keys(lang):
    path = SRC / "messages" / lang / "oplog.toml"
    out = set()

    def walk(prefix, table):
        for k, v in table.items():
            walk(f"{prefix}.{k}", v) if isinstance(v, dict) else out.add(f"{prefix}.{k}")

    walk("oplog", tomllib.loads(path.read_text("utf-8")))
    return out


def test_both_catalogues_hold_the_same_keys_and_every_rule_has_its_messages():
    assert _keys("ja") == _keys("en")
    from kumin.oplog.scan import RULES

    for rule in RULES:
        assert t(f"oplog.rule_name.{rule}", "ja") != f"oplog.rule_name.{rule}"
        assert any(k.startswith(f"oplog.rule.{rule}.") for k in _keys("en"))


@pytest.mark.parametrize("module", MINE)
def test_the_core_imports_no_database_and_no_web(module):
    tree = ast.parse((SRC / module).read_text("utf-8"))
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    banned = (
        "sqlalchemy",
        "fastapi",
        "starlette",
        "psycopg",
        "kumin.web",
        "kumin.core.db",
        "kumin.core.models",
        "kumin.core.context",
    )
    assert not [n for n in names if n.startswith(banned)]
