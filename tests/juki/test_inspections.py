"""The daily checklist (editable items, the security-wire item marks a terminal not
secured), audits with findings and corrective actions, meetings, and the sections
2, 5 and 6 of the security report."""

from __future__ import annotations

import pytest
from tests.juki._helpers import D, acting, small_ward

from kumin.errors import ParameterError
from kumin.juki import service
from kumin.juki.demo import MEETINGS_FY2021, WIRE_FINDING
from kumin.oplog.governance import governance_context
from kumin.reports.security import make_security_report, security_report


def test_wire_item_sets_the_terminal_state_and_feeds_the_context(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    with acting(fresh_db, "records_officer") as ctx:
        items = service.checklist_items(ctx)
        wire = [i for i in items if i["wire"]]
        assert [i["text_ja"] for i in wire] == [
            "統合端末がセキュリティワイヤー等で固定されており、紛失していない。"
        ]
        codes = [i["code"] for i in items]
    ok = {c: True for c in codes}
    with acting(fresh_db, "terminal_manager") as ctx:
        day1 = service.record_checklist(ctx, "T0801", D(2021, 6, 1), ok | {"wire": False}, "未固定")
        assert not day1["secured"] and day1["failed"] == ["wire"]
        assert service.get_terminal(ctx, "T0801")["state"] == "unsecured"
        service.record_checklist(ctx, "T0801", D(2021, 6, 2), ok)
        assert service.get_terminal(ctx, "T0801")["state"] == "in_service"
        # a left-out item counts as not OK; re-recording a day replaces it
        again = service.record_checklist(ctx, "T0801", D(2021, 6, 2), ok | {"media": False})
        assert again["secured"] and again["failed"] == ["media"]
        with pytest.raises(ParameterError):
            service.record_checklist(ctx, "T0801", D(2021, 6, 3), {"nonsense": True})
    with acting(fresh_db, "auditor") as ctx:
        got = governance_context(ctx)
    assert sorted((c.date, c.secured) for c in got.checklist) == [
        (D(2021, 6, 1), False),
        (D(2021, 6, 2), True),
    ]


def test_items_are_editable(fresh_db):
    with acting(fresh_db, "records_officer") as ctx:
        service.set_checklist_item(
            ctx, "keys", text_ja="保管庫の鍵が管理されている。", text_en="Keys kept."
        )
        service.set_checklist_item(ctx, "media", active=False)
        codes = [i["code"] for i in service.checklist_items(ctx)]
        every = [i["code"] for i in service.checklist_items(ctx, include_inactive=True)]
    assert "keys" in codes and "media" not in codes and "media" in every
    with acting(fresh_db, "records_officer") as ctx, pytest.raises(ParameterError):
        service.set_checklist_item(ctx, "new")


def _fy2021_records(settings):
    with acting(settings, "records_officer") as ctx:
        for day, kind, title, deliberations, reports in MEETINGS_FY2021:
            service.add_meeting(ctx, day, kind, title, deliberations, reports)
        audit = service.add_audit(
            ctx, D(2022, 1, 14), "jukinet", "住民基本台帳ネットワークシステム定期監査"
        )
        finding = service.add_finding(ctx, audit["id"], WIRE_FINDING, department="D08")
        service.update_finding(
            ctx,
            finding["id"],
            corrective_action="研修でセキュリティワイヤー等による固定を徹底",
            status="corrected",
        )
        service.add_training(
            ctx, D(2022, 2, 24), "training", "端末機管理責任者・補助者研修", participants=30
        )
        service.add_meeting(ctx, D(2021, 3, 15), "jukinet", "前年度の会議")


def test_security_report_sections_2_5_6(fresh_db, tmp_path):
    small_ward(fresh_db, tmp_path)
    _fy2021_records(fresh_db)
    with acting(fresh_db, "auditor") as ctx:
        report = security_report(ctx, 2021, "ja")
        body, media, name = make_security_report(ctx, 2021, "html", "ja")
        en = security_report(ctx, 2021, "en")
    sections = {s.number: s for s in report.sections if s.key.startswith("juki.")}
    assert sorted(sections) == ["2", "5", "6"]
    s2, s5, s6 = sections["2"], sections["5"], sections["6"]
    assert s2.figures["departments"] == 3 and s2.figures["terminals"] == 4
    assert s2.figures["operators_added"] == 1 and s2.figures["operators_removed"] == 1
    total = s2.tables[0].rows[-1]
    assert total[:2] == ["合計", "4"]
    assert len(s5.figures["meetings"]) == 7  # the earlier year's meeting is left out
    assert "(1) 第1回マイナンバー制度セキュリティ会議（令和3年6月2日）" in s5.paragraphs
    assert s6.figures == {"audits": 1, "findings": 1, "open_findings": 0}
    text = body.decode()
    assert WIRE_FINDING in text and "研修でセキュリティワイヤー等による固定を徹底" in text
    assert 'id="section-5"' in text and 'id="section-6"' in text
    en_titles = [s.title for s in en.sections if s.key.startswith("juki.")]
    assert en_titles[1] == "Security meetings in FY2021"
