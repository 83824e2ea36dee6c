"""Saving an uploaded file: streamed to disk under the name the user gave it.

Every web route that takes a file calls :func:`save_upload` and, when done,
:func:`discard_upload`. The file goes in 1 MiB chunks into a private folder
(0700, the file 0600) so memory stays flat, and keeps the uploaded file's own
(sanitised) name, so that every error an importer raises names the file the
user sent, never a temporary name. The request size itself is capped by the app
(``KUMIN_UPLOAD_LIMIT_MB``); ``limit`` is checked again here while copying.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from pathlib import Path
from typing import Any, BinaryIO

from kumin.errors import UserError

CHUNK = 1 << 20
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")


def safe_name(filename: str | None, default: str = "upload.csv") -> str:
    """The last component of an uploaded file's name, without control or path characters."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if not name:
        return default
    stem, dot, suffix = name.rpartition(".")
    if len(name) > 120:  # keep the suffix: importers choose CSV or .xlsx by it
        name = (stem[: 110 - len(suffix)] + "." + suffix) if dot else name[:120]
    return name


def save_upload(upload: Any, limit: int | None = None) -> Path:
    """Copy an upload (anything with ``filename`` and a binary ``file``) to disk."""
    source: BinaryIO = upload.file
    folder = Path(tempfile.mkdtemp(prefix="kumin-upload-"))
    path = folder / safe_name(getattr(upload, "filename", None))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        size = 0
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise UserError("core.upload.too_large", limit=limit >> 20)
                out.write(chunk)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


def discard_upload(path: Path) -> None:
    """Remove a saved upload and its private folder."""
    shutil.rmtree(Path(path).parent, ignore_errors=True)
