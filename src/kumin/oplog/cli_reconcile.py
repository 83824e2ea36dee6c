"""``kumin report reconcile``: section 4's inquiries, the usage records and the
operation logs compared per department and month (:mod:`kumin.oplog.reconcile`)."""

from __future__ import annotations

import json

import typer

from kumin.cli.common import check_format, cli_ctx, emit, settings
from kumin.core.i18n import t

DIFFERENCE_COLUMNS = (
    "department",
    "name",
    "month",
    "inquiries",
    "lookups",
    "usage",
    "usage_entries",
    "shared_lookups",
    "difference",
)
OPERATOR_COLUMNS = ("operator_id", "source", "department", "name", "first_day", "last_day", "count")


def reconcile_cmd(
    fy: int = typer.Option(..., "--fy", help="年度（2021 = 令和3年度） / fiscal year"),
    fmt: str = typer.Option(
        "table",
        "--format",
        help="table, json, csv（csv は一致しない所属・月のみ / csv: the differences only）",
    ),
) -> None:
    """業務別照会件数・利用記録簿・操作ログの突合（所属・月ごと）
    / Reconcile inquiries by business, usage records and operation logs per department-month."""
    from kumin.oplog.reconcile import reconciliation, summary

    check_format(fmt, ("table", "json", "csv"))
    with cli_ctx("security.report") as ctx:
        result = reconciliation(ctx, fy)
    body = result.to_dict()
    if fmt == "json":
        typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
        return
    differences = [{k: row[k] for k in DIFFERENCE_COLUMNS} for row in body["differences"]]
    if fmt == "csv":
        emit(differences, "csv", DIFFERENCE_COLUMNS)
        return
    lang = settings().lang
    emit(
        differences,
        "table",
        DIFFERENCE_COLUMNS,
        title=t("oplog.reconcile.differences_title", lang, fy=fy),
    )
    if body["operators"]:
        emit(
            [{k: row[k] for k in OPERATOR_COLUMNS} for row in body["operators"]],
            "table",
            OPERATOR_COLUMNS,
            title=t("oplog.reconcile.operators_title", lang),
        )
    typer.echo(summary(result, lang))
