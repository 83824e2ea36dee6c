"""Demo data of the cases domain, loaded through the same services a user would use.

- The synthetic ward's 31,077 notification records, written as a dirty HER-SYS
  export in CP932 and imported by ``demo-epi`` through the importer.
- The contract of report No. 350 (結核研究所 and 滋賀大学, 2021-11-01 to
  2022-06-30): it has ended, so housekeeping disposes of it at load and issues its
  certificate.
- A current contract naming ``demo-researcher``, with one release, so that the
  researcher can download it in the demo.

Loading twice changes nothing: each step is skipped when its result exists.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

from sqlalchemy import func, select

from kumin.cases import service
from kumin.cases.contracts import ContractInput, add_contract
from kumin.cases.housekeeping import housekeeping
from kumin.cases.models import Contract, ImportRun, Release
from kumin.cases.releases import create_release
from kumin.core.context import Ctx
from kumin.core.permissions import Actor

#: Records of the demo ward (report No. 350's count); tests load fewer.
RECORDS = 31_077
REPORT_CONTRACT = "R350-2021"
CURRENT_CONTRACT = "DEMO-2026-01"

REPORT_350 = ContractInput(
    code=REPORT_CONTRACT,
    category="類型1：各種調査・分析委託",
    title="健康危機管理対策の強化に資する官学連携研究としての区の疫学情報等のデータ分析委託",
    purpose=(
        "令和2年1月から令和4年1月中旬までの新型コロナウイルス感染症に関する情報を用いた"
        "感染症数理モデルの構築と、結核対策や定期予防接種事業などの最重要業務が中断しないよう、"
        "適切な資源配分により健康危機管理対策が実施されているかを評価することで、"
        "区健康危機管理対策の強化に資すること。"
    ),
    content=(
        "保健所への業務応援の実績のある結核研究所等と官学連携で研究プロジェクトを立ち上げ、"
        "保健所の疫学情報などの分析業務を外部委託する。区における疫学情報や発熱相談センターにおける"
        "外部人材の投入量と受電件数などを用いた分析案を作成し、研究機関へ提供する。"
    ),
    persons="令和2年1月から令和4年1月14日までの発生届の登録がある区民",
    persons_from=dt.date(2020, 1, 1),
    persons_to=dt.date(2022, 1, 14),
    contractors=[
        "公益財団法人結核予防会結核研究所",
        "滋賀大学データサイエンス・AIイノベーション研究推進センター",
    ],
    items=[
        "HER-SYS ID",
        "生年月日",
        "年代",
        "性別",
        "国籍",
        "居住地",
        "住所（町名まで）",
        "発病年月日",
        "初診年月日",
        "検体採取日",
        "結果判明日",
        "症状",
        "ワクチン接種歴",
        "療養先",
    ],  # fmt: skip
    protection=(
        "個人情報保護に関する関係法令等の遵守や安全管理措置を定めた内部規程が定められ、"
        "個人情報の保護管理体制が確立されている。"
    ),
    computer_processing=True,
    start=dt.date(2021, 11, 1),
    end=dt.date(2022, 6, 30),
)


def _current_contract(today: dt.date) -> ContractInput:
    return ContractInput(
        code=CURRENT_CONTRACT,
        category="類型1：各種調査・分析委託",
        title="流行曲線と実効再生産数の共同分析（デモ）",
        purpose="合成区の発生届を用いて、流行曲線・報告遅れ・実効再生産数の推定法を比較する。",
        content="区は最小化した発生届データを提供し、研究機関は推定結果と手法を区に報告する。",
        persons="令和2年1月から令和4年1月14日までの発生届の登録がある区民（合成データ）",
        persons_from=dt.date(2020, 1, 1),
        persons_to=dt.date(2022, 1, 14),
        contractors=["デモ大学 感染症疫学講座"],
        items=[
            "HER-SYS ID",
            "年代",
            "性別",
            "住所（町名まで）",
            "発病年月日",
            "初診年月日",
            "検体採取日",
            "結果判明日",
            "ワクチン接種歴",
            "療養先",
        ],  # fmt: skip
        protection="内部規程により安全管理措置を定めている（デモ）。",
        start=today - dt.timedelta(days=60),
        end=today + dt.timedelta(days=305),
        researchers=["demo-researcher"],
    )


def _exists(ctx: Ctx, code: str) -> bool:
    return ctx.session.scalar(select(Contract.id).where(Contract.code == code)) is not None


def load_demo(ctx: Ctx, seed: int, progress) -> None:
    from kumin.synth.cases import synth_cases, write_cases_csv
    from kumin.synth.demo import DEMO_USERS

    epi = Ctx(ctx.session, ctx.settings, Actor(DEMO_USERS["epidemiologist"], "epidemiologist"))
    file_name = f"demo_hersys_{seed}.csv"
    task = progress.add_task("発生届 / Notification records", total=2 * RECORDS + 3)
    loaded = ctx.session.scalar(
        select(func.count()).select_from(ImportRun).where(ImportRun.file_name == file_name)
    )
    if not loaded:
        with tempfile.TemporaryDirectory(prefix="kumin-demo-") as folder:
            path = Path(folder) / file_name
            records = synth_cases(seed=seed, n=RECORDS)
            write_cases_csv(records, path, "hersys", encoding="cp932", seed=seed)

            def tick(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total + 3)

            service.import_cases(epi, path, "hersys", progress=tick)
    progress.update(task, completed=2 * RECORDS)
    if not _exists(epi, REPORT_CONTRACT):
        add_contract(epi, REPORT_350)
    ended = epi.session.scalar(select(Contract.disposed_at).where(Contract.code == REPORT_CONTRACT))
    if ended is None:
        housekeeping(epi)  # the report's contract has ended: dispose of it, with its certificate
    progress.advance(task)
    if not _exists(epi, CURRENT_CONTRACT):
        add_contract(epi, _current_contract(dt.date.today()))
    progress.advance(task)
    contract_id = epi.session.scalar(select(Contract.id).where(Contract.code == CURRENT_CONTRACT))
    has_release = epi.session.scalar(select(Release.id).where(Release.contract_id == contract_id))
    if has_release is None:
        create_release(epi, CURRENT_CONTRACT)
    progress.advance(task)
