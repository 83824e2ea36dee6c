"""Demo data of Juki-net terminal governance.

The departments, terminals, ledgers (with the April transfer), applications,
reservations, usage records, business records, checklists and the watch list are
those of the demo's year (:func:`kumin.synth.demo_year.demo_year`), written as the
import files and loaded through the same imports a user runs, so that the
synthetic operation logs (loaded by the oplog demo from :func:`demo_synth`) match
the records. The FY2021 security meetings and audits are typed in from sections
5 and 6 of the ward's report (令和4年8月26日); training dates are not in the
report and are made up. A pending application waits for review.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import select

from kumin.core.context import Ctx
from kumin.core.permissions import Actor
from kumin.juki import service
from kumin.juki.models import JukiDepartment
from kumin.synth.demo import DEMO_USERS
from kumin.synth.demo_year import demo_year
from kumin.synth.juki_files import write_governance_files
from kumin.synth.oplog import SynthOplog

#: report section 5: FY2021 security meetings (date, kind, title, deliberations, reports)
MEETINGS_FY2021: tuple[tuple[dt.date, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        dt.date(2021, 6, 2),
        "mynumber",
        "第1回マイナンバー制度セキュリティ会議",
        (
            "特定個人情報保護評価の再実施について（予防接種実施事務"
            "（新型インフルエンザ等に係る予防接種実施事務の追加））",
        ),
        (
            "令和2年度マイナンバー制度セキュリティ対策監査委員会が行う監査の実施結果について",
            "令和2年度マイナンバーカードの交付・運用状況について",
        ),
    ),
    (
        dt.date(2021, 6, 2),
        "jukinet",
        "第1回住民基本台帳ネットワークシステムセキュリティ会議",
        (),
        (
            "世田谷区における住民基本台帳ネットワークシステムセキュリティ管理に係る"
            "役職者一覧(令和3年度)について",
            "住基ネット庁内緊急連絡網について",
            "住民基本台帳ネットワークシステムの運用状況について",
            "住民基本台帳ネットワークシステム操作ログの分析結果について",
            "令和2年度住民基本台帳ネットワークシステムセキュリティ対策定期監査の結果について",
            "住民基本台帳ネットワークシステムに係るセキュリティ研修の実施結果報告について",
            "情報セキュリティ関連研修の実施状況について",
            "セキュリティ強化対策の実施状況について",
        ),
    ),
    (
        dt.date(2021, 8, 31),
        "mynumber",
        "第2回マイナンバー制度セキュリティ会議",
        (
            "特定個人情報保護評価の再実施について(新型コロナウイルス感染症対策に係る予防接種事務の追加)",
        ),
        (),
    ),
    (
        dt.date(2021, 11, 22),
        "mynumber",
        "第3回マイナンバー制度セキュリティ会議",
        ("特定個人情報保護評価の実施について(健康増進法による健康増進事業の実施に関する事務)",),
        (),
    ),
    (
        dt.date(2022, 2, 3),
        "mynumber",
        "第4回マイナンバー制度セキュリティ会議",
        (
            "特定個人情報保護評価の再実施について(予防接種実施事務(感染症予防業務におけるVRS利用"
            "(ワクチン接種証明書発行))に関する特定個人情報保護評価)",
        ),
        (),
    ),
    (
        dt.date(2022, 3, 15),
        "mynumber",
        "第5回マイナンバー制度セキュリティ会議",
        (
            "令和4年度特定個人情報ファイルにかかる情報セキュリティ対策の年間運用計画について",
            "令和4年度情報セキュリティ対策に係る研修・説明会等の実施計画について",
        ),
        ("マイナンバーカードの交付・運用状況について",),
    ),
    (
        dt.date(2022, 3, 15),
        "jukinet",
        "第2回住民基本台帳ネットワークシステムセキュリティ会議",
        (),
        (
            "住民基本台帳ネットワークシステムの運用状況について",
            "住民基本台帳ネットワークシステム操作ログの分析結果について",
            "住民基本台帳ネットワークシステムに係るセキュリティ研修の実施結果報告について",
            "東京都議会議員選挙の執行に伴う「現住所に関する確認書」の対応について",
            "令和3年度区市町村向け緊急時対応訓練の実施について",
            "令和3年度住基ネット自己点検にかかる緊急時対応訓練について",
            "セキュリティ強化対策の実施状況について",
        ),
    ),
)

AUDIT_DAY = dt.date(2022, 1, 14)
WIRE_FINDING = "一部所属で盗難防止措置が行われていない端末機が存在した。"
WIRE_CAUSE = (
    "指摘された所属は、施設自体にロックがかけられており、部外者の立ち入りが無いことから、"
    "盗難防止措置を講じる必要性が有ると認識していなかった。"
)
WIRE_ACTION = (
    "今回の指摘を受け、当該所属に対して十分に注意するよう指導するとともに、"
    "端末機管理責任者・補助者を対象とした研修において、セキュリティワイヤー等で固定を"
    "徹底するよう指示している。"
)
WIRE_FOLLOW_UP = (
    "なお、統合端末を設置する所属が使用する日次点検簿において「統合端末がセキュリティ"
    "ワイヤー等で固定されており、紛失していない。」ことを確認する項目が設けられている。"
)
NO_FINDINGS = "各窓口において事務が概ね適正に行われていると判断され、特段の指摘事項はなかった。"

#: training and drills the report mentions (their dates are not in it: made up)
TRAININGS_FY2021 = (
    (
        dt.date(2021, 5, 20),
        "training",
        "住民基本台帳ネットワークシステムに係るセキュリティ研修",
        "統合端末の操作者",
    ),
    (dt.date(2021, 11, 10), "drill", "令和3年度区市町村向け緊急時対応訓練", "住民記録・戸籍課"),
    (
        dt.date(2022, 2, 16),
        "drill",
        "令和3年度住基ネット自己点検にかかる緊急時対応訓練",
        "統合端末設置所属",
    ),
    (
        dt.date(2022, 2, 24),
        "training",
        "端末機管理責任者・補助者研修（セキュリティワイヤー等による固定の徹底）",
        "端末機管理責任者・補助者",
    ),
)
MADE_UP_DATE = "実施日は合成（報告書に記載なし）"


def demo_synth(seed: int) -> SynthOplog:
    """The synthetic year the demo's records (and the oplog demo's logs) come from:
    March 2021 to March 2022, its departments' lookups those of section 4's
    inquiries (:func:`kumin.synth.demo_year.demo_year`, which the cards demo's
    inquiries come from too, so that the reconciliation finds only the injected
    misuse)."""
    return demo_year(seed).synth


def _as(ctx: Ctx, role: str, department: str | None = None) -> Ctx:
    return Ctx(ctx.session, ctx.settings, Actor(DEMO_USERS[role], role, None, department, "ja"))


def load_demo(ctx: Ctx, seed: int, progress) -> None:
    """Load the demo records (nothing happens when departments already exist)."""
    if ctx.session.scalar(select(JukiDepartment.code).limit(1)) is not None:
        return
    officer = _as(ctx, "records_officer")
    synth = demo_synth(seed)
    steps = 12
    task = progress.add_task("住基ネット / Juki-net", total=steps)
    with tempfile.TemporaryDirectory(prefix="kumin-juki-demo-") as tmp:
        files = write_governance_files(synth.context, Path(tmp))
        service.import_departments(officer, files.departments)
        service.import_terminals(officer, files.terminals)
        progress.update(task, advance=1)
        for department, effective, path in files.ledgers:
            service.import_ledger(officer, department, effective, path)
        progress.update(task, advance=1)
        service.import_applications(officer, files.applications)
        service.import_reservations(officer, files.reservations)
        service.import_usage(officer, files.usage)
        progress.update(task, advance=1)
        service.import_business_records(officer, files.business_records)
        progress.update(task, advance=4)
        service.import_checklists(officer, files.checklists)
        service.import_watchlist(officer, files.watchlist)
        progress.update(task, advance=1)

    for day, kind, title, deliberations, reports in MEETINGS_FY2021:
        service.add_meeting(officer, day, kind, title, deliberations, reports)
    for day, kind, title, audience in TRAININGS_FY2021:
        service.add_training(officer, day, kind, title, audience, notes=MADE_UP_DATE)
    progress.update(task, advance=1)

    service.add_audit(
        officer,
        AUDIT_DAY,
        "mynumber",
        "マイナンバー制度セキュリティ対策定期監査",
        scope="個人番号利用事務の各窓口",
        summary=NO_FINDINGS,
    )
    audit = service.add_audit(
        officer,
        AUDIT_DAY,
        "jukinet",
        "住民基本台帳ネットワークシステム定期監査",
        scope="統合端末設置所属（15所属）",
    )
    # the finding names a terminal the synthetic checklists flagged as not fixed
    flagged = sorted((c.date, c.terminal_id) for c in synth.context.checklist if not c.secured)
    terminal = flagged[0][1] if flagged else None
    department = next(
        (t.department for t in synth.context.terminals if t.terminal_id == terminal), None
    )
    service.add_finding(
        officer,
        audit["id"],
        WIRE_FINDING,
        department=department,
        terminal_id=terminal,
        cause=WIRE_CAUSE,
        corrective_action=WIRE_ACTION,
        follow_up=WIRE_FOLLOW_UP,
        status="corrected",
        closed_on=dt.date(2022, 2, 24),
    )
    progress.update(task, advance=1)

    # a renewal waiting for the resident-records division's review
    manager = _as(ctx, "terminal_manager", "課税課")
    dept = ctx.session.scalar(select(JukiDepartment.code).where(JukiDepartment.name == "課税課"))
    if dept is not None:
        service.submit_application(
            manager,
            dept,
            "住民税",
            dt.date(2022, 4, 1),
            dt.date(2023, 3, 31),
            "令和4年度の住民税賦課事務における本人確認情報の照会",
        )
    progress.update(task, completed=steps)  # the bar ends at 100%, not at 11 of 12 (#14)
