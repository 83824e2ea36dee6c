"""The versioned operator ledger: the version in force by date, who was added and
removed at each transfer, encrypted names, and rights only under an approved
application."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.juki._helpers import D, acting, small_ward, write_csv

from kumin.core.models import AuditEntry
from kumin.errors import NotFound
from kumin.juki import service
from kumin.juki.models import LedgerEntry


def test_ledger_in_force_is_the_newest_version_not_after_the_day(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "records_officer") as ctx:

        def ops(day):
            found = service.ledger_in_force(ctx, "D08", day)
            return [o["operator_id"] for o in found["operators"]]

        assert ops(D(2020, 4, 1)) == ["U1", "U2", "U3"]
        assert ops(D(2021, 3, 31)) == ["U1", "U2", "U3"]
        assert ops(D(2021, 4, 1)) == ["U1", "U3", "U4"]
        assert ops(D(2030, 1, 1)) == ["U1", "U3", "U4"]
        with pytest.raises(NotFound):
            service.ledger_in_force(ctx, "D08", D(2020, 3, 31))
        versions = service.ledger_versions(ctx, "D08")
        assert service.operator_department(ctx, "U2", D(2021, 3, 1)) == ["D08", "D12"]
        assert service.operator_department(ctx, "U2", D(2021, 4, 1)) == ["D12"]
    assert [(v["effective"], v["added"], v["removed"]) for v in versions] == [
        (D(2020, 4, 1), ["U1", "U2", "U3"], []),
        (D(2021, 4, 1), ["U4"], ["U2"]),
    ]


def test_reimport_is_harmless_and_a_correction_replaces_the_version(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    header = ["operator_id", "name", "role"]
    path = write_csv(
        tmp_path / "l.csv",
        header,
        [["U1", "職員U1", "操作者"], ["U3", "職員U3", "操作者"], ["U4", "職員U4", "操作者"]],
    )
    with acting(fresh_db, "records_officer") as ctx:
        same = service.import_ledger(ctx, "D08", D(2021, 4, 1), path)
    assert same["outcome"] == "unchanged"
    fixed = write_csv(
        tmp_path / "l2.csv", header, [["U1", "職員U1", "操作者"], ["U4", "職員U4", "補助者"]]
    )
    with acting(fresh_db, "terminal_manager") as ctx:  # 課税課 submits its own ledger
        replaced = service.import_ledger(ctx, "D08", D(2021, 4, 1), fixed)
    assert replaced["outcome"] == "replaced"
    assert replaced["removed"] == ["U2", "U3"] and replaced["added"] == ["U4"]


def test_names_are_encrypted_and_reading_them_is_audited(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "records_officer") as ctx:
        raw = ctx.session.scalars(select(LedgerEntry.name)).all()
        assert raw and all("職員".encode() not in token for token in raw)
        plain = service.ledger_in_force(ctx, "D08", D(2021, 5, 1))
        assert "name" not in plain["operators"][0]
        named = service.ledger_in_force(ctx, "D08", D(2021, 5, 1), with_names=True)
        assert [o["name"] for o in named["operators"]] == ["職員U1", "職員U3", "職員U4"]
        audits = ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "juki.ledger_read")
        ).all()
    assert len(audits) == 1 and json.loads(audits[0].details)["count"] == 3
    assert "職員" not in audits[0].details


def test_rights_only_under_an_approved_application_and_end_with_it(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "records_officer") as ctx:
        assert service.operator_rights(ctx, "D08", D(2021, 5, 1))["operators"] == []
        path = write_csv(
            tmp_path / "a.csv",
            ["department", "function", "valid_from", "valid_to"],
            [["D08", "住民税", "2021-04-01", "2022-03-31"]],
        )
        service.import_applications(ctx, path)
        rights = service.operator_rights(ctx, "D08", D(2021, 5, 1))
        assert rights["operators"] == ["U1", "U3", "U4"] and rights["functions"] == ["住民税"]
        app_id = service.list_applications(ctx, "D08")[0]["id"]
        service.end_application(ctx, app_id, D(2021, 9, 30))
        assert service.operator_rights(ctx, "D08", D(2021, 9, 30))["operators"] == [
            "U1",
            "U3",
            "U4",
        ]
        assert service.operator_rights(ctx, "D08", D(2021, 10, 1))["operators"] == []
