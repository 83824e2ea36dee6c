"""Usage applications: review and approval by the resident-records division, imports
recorded as approved by the importing officer; usage records need the ledger, an
approved application and (on a shared terminal) a reservation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from tests.juki._helpers import D, T, acting, small_ward, write_csv

from kumin.core.models import AuditEntry
from kumin.errors import PermissionDenied, StateError
from kumin.juki import service


def test_submit_review_approve(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "terminal_manager") as ctx:
        app = service.submit_application(ctx, "D08", "住民税", D(2021, 4, 1), D(2022, 3, 31))
    with acting(fresh_db, "terminal_manager") as ctx, pytest.raises(PermissionDenied):
        service.submit_application(ctx, "D12", "児童手当", D(2021, 4, 1), D(2022, 3, 31))
    with acting(fresh_db, "terminal_manager") as ctx, pytest.raises(PermissionDenied):
        service.review_application(ctx, app["id"], True)
    with acting(fresh_db, "records_officer") as ctx:
        assert service.operator_rights(ctx, "D08", D(2021, 5, 1))["functions"] == []
        done = service.review_application(ctx, app["id"], True, "審査済み")
        assert done["state"] == "approved" and done["reviewed_by"] == "u-records-officer"
        with pytest.raises(StateError):
            service.review_application(ctx, app["id"], False)
        assert service.operator_rights(ctx, "D08", D(2021, 5, 1))["functions"] == ["住民税"]


def test_nobody_reviews_their_own_application_and_rejected_grants_nothing(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "records_officer") as ctx:
        own = service.submit_application(
            ctx, "D01", "住民票の写し等交付", D(2021, 4, 1), D(2022, 3, 31)
        )
        with pytest.raises(StateError) as err:
            service.review_application(ctx, own["id"], True)
        assert err.value.key == "juki.self_review"
    with acting(fresh_db, "terminal_manager") as ctx:
        app = service.submit_application(ctx, "D08", "住民税", D(2021, 4, 1), D(2022, 3, 31))
    with acting(fresh_db, "records_officer") as ctx:
        service.review_application(ctx, app["id"], False, "目的が不明確")
        assert service.operator_rights(ctx, "D08", D(2021, 5, 1))["operators"] == []


def test_import_is_recorded_as_approved_by_the_importer_and_audited(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    path = write_csv(
        tmp_path / "a.csv",
        ["department", "function", "valid_from", "valid_to"],
        [
            ["D08", "住民税", "2021-04-01", "2022-03-31"],
            ["D12", "児童手当", "2021-04-01", "2022-03-31"],
        ],
    )
    with acting(fresh_db, "records_officer") as ctx:
        assert service.import_applications(ctx, path).inserted == 2
        assert service.import_applications(ctx, path).inserted == 0
        apps = service.list_applications(ctx)
        entries = ctx.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "juki.applications_import")
        ).all()
    assert {(a["state"], a["reviewed_by"]) for a in apps} == {("approved", "u-records-officer")}
    details = json.loads(entries[0].details)
    assert details["approved_by"] == "u-records-officer" and details["inserted"] == 2


def test_usage_record_needs_ledger_approval_and_reservation(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    apps = write_csv(
        tmp_path / "a.csv",
        ["department", "function", "valid_from", "valid_to"],
        [
            ["D08", "住民税", "2021-04-01", "2022-03-31"],
            ["D12", "児童手当", "2021-04-01", "2022-03-31"],
        ],
    )
    with acting(fresh_db, "records_officer") as ctx:
        service.import_applications(ctx, apps)
    start, end = T(2021, 6, 1, 9, 10), T(2021, 6, 1, 9, 40)
    with acting(fresh_db, "terminal_manager") as ctx:

        def refused(key, **kw):
            args = {"operator_id": "U1", "function": "住民税", "terminal_id": "S01"} | kw
            with pytest.raises(StateError) as err:
                service.record_usage(
                    ctx,
                    "D08",
                    args["terminal_id"],
                    args["operator_id"],
                    start,
                    end,
                    args["function"],
                    3,
                )
            assert err.value.key == f"juki.import.{key}"

        refused("no_reservation")
        refused("not_in_ledger", operator_id="U2")  # removed at the April transfer
        refused("not_approved", function="児童手当")
        refused("other_department", terminal_id="T1201")
        service.create_reservation(ctx, "D08", "S01", T(2021, 6, 1, 9), T(2021, 6, 1, 10))
        row = service.record_usage(ctx, "D08", "S01", "U1", start, end, "住民税", 3)
    assert row["inquiries"] == 3
    with acting(fresh_db, "records_officer") as ctx, pytest.raises(StateError) as err:
        service.create_reservation(ctx, "D12", "S01", T(2021, 6, 1, 9, 30), T(2021, 6, 1, 11))
    assert err.value.key == "juki.import.overlap"
