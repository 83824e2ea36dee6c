"""Terminal managers see and edit only their own department (their account names
the department by name, 課税課, or by code); records officers see everything;
auditors read."""

from __future__ import annotations

import pytest
from tests.juki._helpers import D, T, acting, approve_fy2021, small_ward, write_csv

from kumin.errors import DataError, PermissionDenied
from kumin.juki import service


def test_terminal_manager_sees_own_department_and_the_shared_terminals(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    approve_fy2021(fresh_db, tmp_path)
    for dept in ("課税課", "D08"):
        with acting(fresh_db, "terminal_manager", dept) as ctx:
            assert [d["department"] for d in service.list_departments(ctx)] == ["D08"]
            assert {t["terminal_id"] for t in service.list_terminals(ctx)} == {"T0801", "S01"}
            assert service.get_department(ctx, "D08")["name"] == "課税課"
            assert service.ledger_versions(ctx, "D08")
    with acting(fresh_db, "auditor") as ctx:
        assert len(service.list_departments(ctx)) == 3
        assert len(service.list_terminals(ctx)) == 4


ATTEMPTS = [
    lambda ctx: service.get_department(ctx, "D12"),
    lambda ctx: service.ledger_versions(ctx, "D12"),
    lambda ctx: service.ledger_in_force(ctx, "D12", D(2021, 5, 1)),
    lambda ctx: service.list_terminals(ctx, "D12"),
    lambda ctx: service.get_terminal(ctx, "T1201"),
    lambda ctx: service.set_terminal(ctx, "T1201", state="retired"),
    lambda ctx: service.record_checklist(ctx, "T1201", D(2021, 6, 1), {}),
    lambda ctx: service.create_reservation(ctx, "D12", "S01", T(2021, 6, 1, 9), T(2021, 6, 1, 10)),
    lambda ctx: service.list_applications(ctx, "D12"),
]


def test_terminal_manager_cannot_touch_another_department(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    approve_fy2021(fresh_db, tmp_path)
    for attempt in ATTEMPTS:
        # each refusal rolls its transaction back: one context per attempt
        with acting(fresh_db, "terminal_manager") as ctx, pytest.raises(PermissionDenied):
            attempt(ctx)
        with acting(fresh_db, "records_officer") as ctx:
            attempt(ctx)  # the officer may


def test_terminal_manager_imports_only_own_rows(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    approve_fy2021(fresh_db, tmp_path)
    path = write_csv(
        tmp_path / "r.csv",
        ["department", "terminal_id", "start", "end"],
        [
            ["D08", "S01", "2021-06-01 09:00", "2021-06-01 10:00"],
            ["D12", "S01", "2021-06-02 09:00", "2021-06-02 10:00"],
        ],
    )
    with pytest.raises(DataError) as err, acting(fresh_db, "terminal_manager") as ctx:
        service.import_reservations(ctx, path)
    assert [(p.line, p.key) for p in err.value.problems] == [(3, "juki.import.not_own_department")]
    with acting(fresh_db, "terminal_manager") as ctx:
        service.create_reservation(ctx, "D08", "S01", T(2021, 6, 3, 9), T(2021, 6, 3, 10))
    with acting(fresh_db, "records_officer") as ctx:
        service.create_reservation(ctx, "D12", "S01", T(2021, 6, 3, 13), T(2021, 6, 3, 14))
    with acting(fresh_db, "terminal_manager") as ctx:
        slots = service.list_reservations(ctx, D(2021, 6, 3), D(2021, 6, 3))
    # another department's booking is shown as a busy slot, without the department
    assert [(s["department"], s["start"].hour) for s in slots] == [("D08", 9), ("", 13)]


def test_web_api_scope(fresh_db, tmp_path, users, app_client):
    small_ward(fresh_db, tmp_path)
    approve_fy2021(fresh_db, tmp_path)
    app_client.login(users.by_role["terminal_manager"])
    assert app_client.get("/api/v1/juki/departments/D08").status_code == 200
    assert app_client.get("/api/v1/juki/departments/D12").status_code == 403
    assert app_client.get("/api/v1/juki/departments/D99").status_code == 404
    listed = app_client.get("/api/v1/juki/departments").json()
    assert [d["department"] for d in listed] == ["D08"]
