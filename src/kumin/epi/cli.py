"""``kumin epi …`` and ``kumin report epi``.

Each command is a thin wrapper over the service function of the same name
(:mod:`kumin.epi.service`): sign in and check ``epi.run`` (``cli_ctx``), call,
print. ``kumin epi rt --counts FILE`` is the exception: a plain counts file holds
no personal data, so it runs for anyone, without a database or a sign-in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from kumin.cli import common
from kumin.cli.common import check_format, cli_ctx, emit, settings
from kumin.core.i18n import t
from kumin.errors import UserError

epi_app = typer.Typer(
    help="感染症数理モデル（流行曲線・遅れ・ナウキャスト・Rt・増加率・SEIR） / "
    "Infectious-disease models (curves, delays, nowcasts, Rt, growth, SEIR)",
    no_args_is_help=True,
)

FROM = typer.Option(None, "--from", help="開始日 / first day (YYYY-MM-DD)")
TO = typer.Option(None, "--to", help="終了日 / last day (YYYY-MM-DD)")
BY = typer.Option(None, "--by", help="層別: town, age, sex / stratify by town, age or sex")
FORMAT = typer.Option("table", "--format", help="table, csv, json")
OUT = typer.Option(None, "--out", help="出力ファイル / write to this file")


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError("core.cli.bad_date", value=value) from None


def _emit(result, fmt: str, out: Path | None, columns=None) -> None:
    rows = result.rows()
    if fmt == "table":
        rows = [{k: _screen(k, v) for k, v in r.items()} for r in rows]
    emit(rows, fmt, columns or result.frame.columns, out=out)
    _warnings(result.meta)
    if fmt == "table":
        _notes(result.meta)


def _windows(text: str | None) -> list[tuple[dt.date, dt.date]] | None:
    """``--windows 2021-06-01:2021-06-14,2021-06-15:2021-06-30`` as (first, last) dates."""
    if not text:
        return None
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, sep, last = (x.strip() for x in part.partition(":"))
        if not (sep and first and last):
            raise UserError("core.cli.bad_date", value=part)
        pairs.append((_date(first), _date(last)))
    return pairs


def _emit_counts(frame, fmt: str, out: Path | None) -> None:
    """A counts-file result, written by polars (1.4 million rows take seconds, not minutes)."""
    from kumin.epi.counts import write_frame

    if out is not None and out.suffix.lower() == ".xlsx":
        write_frame(frame, "xlsx", out)
    elif fmt in ("csv", "json"):
        data = write_frame(frame, fmt, out)
        if out is None:
            typer.echo(data.decode("utf-8-sig"), nl=False)  # as emit(): no BOM on a terminal
    else:
        rows = [
            {k: _screen(k, v) for k, v in zip(frame.columns, r, strict=True)}
            for r in frame.iter_rows()
        ]
        emit(rows, fmt, out=out)


def _warnings(meta: dict) -> None:
    """Model warnings (a fit that did not converge…), on stderr whatever the format."""
    from kumin.epi.model_warnings import texts

    for text in texts(meta, settings().lang):
        common.err_console.print(
            t("epi.model_warning.cli", settings().lang, text=text), style="yellow", soft_wrap=True
        )


#: columns that count people: a screen shows them as whole numbers (a nowcast's
#: quantiles of counts may fall between two draws)
COUNT_COLUMNS = ("cases", "observed", "median", "n")


def _screen(column: str, value):
    """A number as a reader expects it on screen: ``81,140``, not ``8.114e+04``;
    counts whole; otherwise 4 significant digits (#14)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    if value != value:  # NaN: no estimate
        return ""
    if value in (float("inf"), float("-inf")):  # e.g. an unbounded interval
        return "∞" if value > 0 else "-∞"
    counts = column in COUNT_COLUMNS or column.startswith(("lower_", "upper_"))
    if counts or abs(value) >= 1000:
        return f"{round(value):,}"
    return f"{value:.4g}"


def _notes(meta: dict) -> None:
    """Facts a reader of the table needs (cases left out, and why), on stderr."""
    lang = settings().lang
    if meta.get("missing_onset"):
        common.err_console.print(t("epi.cli.missing_onset", lang, count=meta["missing_onset"]))
    if meta.get("peak_date"):
        common.err_console.print(
            t(
                "epi.cli.peak",
                lang,
                date=meta["peak_date"],
                median=round(meta["peak_median"]),
                lower=round(meta["peak_lower_90"]),
                upper=round(meta["peak_upper_90"]),
            )
        )


@epi_app.command("curve")
def curve(
    start: str = FROM,
    end: str = TO,
    by: str = BY,
    freq: str = typer.Option("day", "--freq", help="day, week"),
    date: str = typer.Option("onset", "--date", help="onset（発症日）, report（結果判明日）"),
    fmt: str = FORMAT,
    out: Path = OUT,
) -> None:
    """流行曲線（日別・週別、7日平均） / Epidemic curve (daily or weekly, 7-day mean)."""
    from kumin.epi import service

    check_format(fmt)
    with cli_ctx("epi.run") as ctx:
        result = service.curve(ctx, _date(start), _date(end), by, freq, date)
    _emit(result, fmt, out)


@epi_app.command("delays")
def delays(
    start: str = FROM, end: str = TO, by: str = BY, fmt: str = FORMAT, out: Path = OUT
) -> None:
    """遅れの分布（発症→受診・検体採取・結果判明）: ガンマ・対数正規・ワイブル、AIC で選択
    / Delay distributions (onset → visit, specimen, result): gamma, lognormal, Weibull by AIC."""
    from kumin.epi import service

    check_format(fmt)
    with cli_ctx("epi.run") as ctx:
        result = service.delays(ctx, _date(start), _date(end), by)
    _emit(result, fmt, out)


@epi_app.command("nowcast")
def nowcast(
    start: str = FROM,
    end: str = TO,
    max_delay: int = typer.Option(21, "--max-delay", help="最大の遅れ（日） / longest delay"),
    as_of: str = typer.Option(None, "--as-of", help="この日の時点で / as the data stood on"),
    triangle: Path = typer.Option(
        None,
        "--triangle",
        help="reference_date,report_date,count[,stratum] の報告三角形（データベース不要。"
        "区間は過去の時点の再現で較正） / reporting triangle file, no database (intervals"
        " calibrated on replays of earlier dates)",
    ),
    samples: int = typer.Option(
        None, "--samples", help="最終件数のサンプル経路 N 本（--triangle） / N sample paths"
    ),
    encoding: str = typer.Option("auto", "--encoding", help="auto, utf-8, cp932"),
    fmt: str = FORMAT,
    out: Path = OUT,
) -> None:
    """直近の発症日別患者数のナウキャスト（予測区間つき） / Nowcast of recent onsets with intervals."""
    from kumin.epi import service

    check_format(fmt)
    if triangle is not None:
        from kumin.epi.triangle_file import nowcast_triangle

        if start or end:  # the file's own dates decide: say so rather than ignore them
            raise UserError("epi.cli_nowcast.period_with_triangle")

        settings()
        frame = nowcast_triangle(
            triangle, max_delay=max_delay, samples=samples, as_of=_date(as_of), encoding=encoding
        )
        rows = [dict(zip(frame.columns, r, strict=True)) for r in frame.iter_rows()]
        # sample paths are for scoring programs: CSV unless JSON is asked for
        emit(rows, "csv" if samples and fmt == "table" else fmt, frame.columns, out=out)
        if samples is None:
            bad = [
                " ".join(str(x) for x in (r.get("stratum"), r["reference_date"]) if x is not None)
                for r in rows
                if not r["reliable"]
            ]
            _unreliable(bad)
        return
    if samples is not None:
        raise UserError("epi.cli_nowcast.samples_need_triangle")
    with cli_ctx("epi.run") as ctx:
        result = service.nowcast(ctx, _date(start), _date(end), max_delay, _date(as_of))
    _emit(result, fmt, out)
    _unreliable(result.meta.get("unreliable_dates", []))


def _unreliable(dates: list[str]) -> None:
    if dates:
        common.err_console.print(
            t("epi.cli_nowcast.unreliable", settings().lang, dates=", ".join(dates))
        )


@epi_app.command("rt")
def rt(
    counts: Path = typer.Option(
        None,
        "--counts",
        help="date,count[,region] の CSV/xlsx（データベース不要） / counts file, no database",
    ),
    method: str = typer.Option(
        "cori", "--method", help="cori, simple, infection（データベースのみ / database only）"
    ),
    si_mean: float = typer.Option(4.8, "--si-mean", help="発症間隔の平均 / serial interval mean"),
    si_sd: float = typer.Option(2.3, "--si-sd", help="発症間隔の標準偏差 / serial interval sd"),
    window: int = typer.Option(7, "--window", help="窓の日数 / window length (days)"),
    encoding: str = typer.Option("auto", "--encoding", help="auto, utf-8, cp932"),
    si_distribution: str = typer.Option(
        "gamma", "--si-distribution", help="gamma, lognormal, weibull（--counts）"
    ),
    si_file: Path = typer.Option(
        None, "--si-file", help="発症間隔の確率 day,p の CSV / serial-interval pmf file (--counts)"
    ),
    uncertain_si: str = typer.Option(
        None,
        "--uncertain-si",
        help="std_mean_si=1,min_mean_si=1,max_mean_si=4.2,std_std_si=0.5,min_std_si=0.5,"
        "max_std_si=2.5[,n1=500,n2=50]（EpiEstim の uncertain_si、--counts）",
    ),
    windows: str = typer.Option(
        None,
        "--windows",
        help="推定窓 開始日:終了日,... / custom windows FIRST:LAST,... (--counts)",
    ),
    weekly: bool = typer.Option(
        False, "--weekly", help="週別の件数（各週の初日の日付） / weekly counts (--counts)"
    ),
    start: str = FROM,
    end: str = TO,
    by: str = BY,
    fmt: str = FORMAT,
    out: Path = OUT,
) -> None:
    """実効再生産数 Rt（Cori 法・感染日ベース・報道の簡易式） / Effective reproduction number Rt.

    --counts の結果の小数は単精度（有効数字 7〜9 桁） / --counts results in single precision."""
    check_format(fmt)
    if counts is not None:
        settings()
        if by:
            # the file's own region column is its stratification
            raise UserError("epi.counts.options.by_with_counts")
        import warnings

        # the counts module alone: no database, no SQLAlchemy to import (#12)
        from kumin.epi.counts import parse_uncertain_si, rt_from_counts
        from kumin.epi.epiestim import PosteriorCVWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", PosteriorCVWarning)
            frame = rt_from_counts(
                counts,
                method=method,
                window=window,
                si_mean=si_mean,
                si_sd=si_sd,
                encoding=encoding,
                start=_date(start),
                end=_date(end),
                si_distribution=si_distribution,
                si_file=si_file,
                uncertain_si=parse_uncertain_si(uncertain_si) if uncertain_si else None,
                windows=_windows(windows),
                weekly=weekly,
            )
        _emit_counts(frame, fmt, out)
        lang = settings().lang
        for w in caught:
            if isinstance(w.message, PosteriorCVWarning):
                m = w.message
                # plain lines: this path prints nothing else through rich, so skips importing it
                typer.echo(
                    t(
                        "epi.rt_options.cv_high",
                        lang,
                        count=m.n_series,
                        total=m.of,
                        needed=m.needed,
                        cv=m.cv,
                    ),
                    err=True,
                )  # fmt: skip
        typer.echo(t("epi.rt_options.date_meaning", lang, window=window), err=True)
        return
    if si_distribution != "gamma" or si_file or uncertain_si or windows or weekly:
        raise UserError("epi.rt_options.counts_only")
    from kumin.epi import service

    with cli_ctx("epi.run") as ctx:
        result = service.rt(ctx, _date(start), _date(end), by, method, window, si_mean, si_sd)
    _emit(result, fmt, out, service.RT_COLUMNS)
    key = "centre" if result.meta.get("date_means") == "window_centre" else "end"
    common.err_console.print(
        t(
            f"epi.rt_options.date_{key}",
            settings().lang,
            window=window,
            interval=result.meta["interval"],
        )
    )


@epi_app.command("growth")
def growth(
    start: str = FROM,
    end: str = TO,
    by: str = BY,
    window: int = typer.Option(14, "--window", help="窓の日数 / window length (days)"),
    fmt: str = FORMAT,
    out: Path = OUT,
) -> None:
    """増加率と倍加・半減時間 / Growth rate and doubling or halving time."""
    from kumin.epi import service

    check_format(fmt)
    with cli_ctx("epi.run") as ctx:
        result = service.growth(ctx, _date(start), _date(end), by, window)
    _emit(result, fmt, out)


@epi_app.command("seir")
def seir(
    start: str = FROM,
    end: str = TO,
    horizon: int = typer.Option(60, "--horizon", help="予測日数 / days to project"),
    change_date: list[str] = typer.Option(
        None, "--change-date", help="伝播が変わる日（複数可） / dates transmission changes"
    ),
    population: int = typer.Option(
        920_000, "--population", help="対象地域の人口 / population of the area"
    ),
    fmt: str = FORMAT,
    out: Path = OUT,
) -> None:
    """年齢別 SEIR の当てはめとシナリオ比較（病床・宿泊療養の需要）
    / Age-structured SEIR fit and scenarios side by side (bed and hotel demand)."""
    from rich.progress import Progress

    from kumin.epi import service

    check_format(fmt)
    changes = [_date(d) for d in change_date] if change_date else None
    with cli_ctx("epi.run") as ctx, Progress(console=common.err_console, transient=True) as bar:
        task = bar.add_task(t("epi.cli.fitting", settings().lang), total=None)
        result = service.seir(
            ctx,
            _date(start),
            _date(end),
            horizon,
            changes,
            population,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    _emit(result, fmt, out)


@epi_app.command("backtest")
def backtest(
    start: str = FROM,
    end: str = TO,
    max_delay: int = typer.Option(14, "--max-delay", help="最大の遅れ（日） / longest delay"),
    dates: int = typer.Option(8, "--dates", help="再現する過去の日数 / past dates replayed"),
    fmt: str = FORMAT,
    out: Path = OUT,
) -> None:
    """過去の時点を再現してナウキャストを採点（WIS・CRPS・区間の被覆率）
    / Replay past dates and score the nowcasts (WIS, CRPS, interval coverage)."""
    from kumin.epi import service

    check_format(fmt)
    with cli_ctx("epi.run") as ctx:
        result = service.backtest(ctx, _date(start), _date(end), max_delay, dates)
    _emit(result, fmt, out)


def report_epi(
    fmt: str = typer.Option("html", "--format", help="html, pdf"),
    lang: str = typer.Option(None, "--lang", help="ja, en"),
    start: str = FROM,
    end: str = TO,
    out: Path = typer.Option(None, "--out", help="出力ファイル / output file"),
) -> None:
    """感染症数理モデルの分析報告書 / Analysis report of the infectious-disease models."""
    from kumin.cli.common import say
    from kumin.core.tabular import write_output
    from kumin.epi import report
    from kumin.reports.render import check_report_format

    check_report_format(fmt, ("html", "pdf"))
    with cli_ctx("epi.report") as ctx:
        data = report.build_report(ctx, fmt, lang or ctx.lang, _date(start), _date(end))
    target = out or Path(f"epi_report.{fmt}")
    write_output(target, data)
    if str(target) != "-":
        say("epi.cli.report_written", path=str(target))


def register(app: typer.Typer) -> None:
    from kumin.reports.cli import report_app

    app.add_typer(epi_app, name="epi")
    report_app.command("epi")(report_epi)
