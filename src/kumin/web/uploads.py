"""One way for every upload form to take a file and to say what was wrong with it (#14).

A page handler calls :func:`import_upload` with the upload and the import to run
on the saved file. On success it gets the import's result; on bad input it gets
an :class:`UploadFailure` and shows its own page again, form included, with
``{% include "_upload_errors.html" %}``: the uploaded file's own name (the saved
copy keeps it, :mod:`kumin.core.uploads`), the importer's message and every
problem by line and column. Nothing was changed: the session is rolled back.
A wrong URL (an unknown department) stays a "not found" page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from kumin.core.context import Ctx
from kumin.core.i18n import t
from kumin.core.uploads import discard_upload, safe_name, save_upload
from kumin.errors import NotFound, Problem, UserError

T = TypeVar("T")


@dataclass(frozen=True)
class UploadFailure:
    """What the form shows above itself after a rejected upload."""

    file_name: str
    message: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def import_upload(
    ctx: Ctx, upload: Any, run: Callable[[Any], T]
) -> tuple[T | None, UploadFailure | None]:
    """Save ``upload``, ``run(path)``, discard the copy: (result, None) or (None, failure)."""
    if upload is None or not getattr(upload, "filename", None):
        return None, UploadFailure("", t("core.upload.choose", ctx.lang))
    name = safe_name(upload.filename)
    try:
        path = save_upload(upload)
    except UserError as exc:
        return None, UploadFailure(name, exc.render(ctx.lang))
    try:
        return run(path), None
    except NotFound:
        raise
    except UserError as exc:
        ctx.session.rollback()
        problems = list(getattr(exc, "problems", []) or [])
        # the first line is the message; the problems are listed one by one below it
        message = exc.render(ctx.lang).splitlines()[0]
        return None, UploadFailure(
            name,
            message,
            [p for p in problems if p.severity != "warning"],
            list(getattr(exc, "warnings", []) or []),
        )
    finally:
        discard_upload(path)


def import_uploads(
    ctx: Ctx, uploads: list[Any], run: Callable[[Any], T], apart: bool = False
) -> tuple[T | None, UploadFailure | None]:
    """Several files that make one import (a system's export: ``cards.csv``,
    ``card_events.csv``, …) saved side by side in one private folder; ``run(folder)``.
    With ``apart`` each file keeps a numbered sub-folder of its own (``001/name``):
    files of the same name (the Ministry's dated snapshots) all stay."""
    uploads = [u for u in uploads or [] if getattr(u, "filename", None)]
    if not uploads:
        return None, UploadFailure("", t("core.upload.choose", ctx.lang))
    names = "、".join(safe_name(u.filename) for u in uploads)
    saved = []
    try:
        for upload in uploads:
            saved.append(save_upload(upload))
    except UserError as exc:
        for path in saved:
            discard_upload(path)
        return None, UploadFailure(names, exc.render(ctx.lang))
    folder = saved[0].parent
    for i, path in enumerate(saved):  # one private folder; a repeated name keeps the last file
        target = folder / f"{i + 1:03d}" / path.name if apart else folder / path.name
        if target == path:
            continue
        target.parent.mkdir(mode=0o700, exist_ok=True)
        path.replace(target)
        if path.parent != folder:
            discard_upload(path)
    try:
        return run(folder), None
    except NotFound:
        raise
    except UserError as exc:
        ctx.session.rollback()
        return None, UploadFailure(
            names,
            exc.render(ctx.lang).splitlines()[0],
            [p for p in getattr(exc, "problems", []) or [] if p.severity != "warning"],
        )
    finally:
        discard_upload(saved[0])
