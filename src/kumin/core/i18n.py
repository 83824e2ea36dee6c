"""The message catalogue: every user-visible string, in Japanese (default) and English.

Catalogues are TOML files under ``kumin/messages/<lang>/<domain>.toml``; a key such
as ``core.login.title`` is written ``[login]`` / ``title = "..."`` in ``core.toml``
(the file name is the first part of the key). Placeholders use ``str.format``
names: ``"{count} 件"``.
"""

from __future__ import annotations

import contextvars
import tomllib
from functools import cache
from importlib import resources
from typing import Any

LANGS = ("ja", "en")
DEFAULT_LANG = "ja"

current_lang: contextvars.ContextVar[str] = contextvars.ContextVar("kumin_lang", default="ja")


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        full = f"{prefix}.{key}"
        if isinstance(value, dict):
            _flatten(full, value, out)
        else:
            out[full] = str(value)


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All messages of one language, keyed by their dotted name."""
    out: dict[str, str] = {}
    folder = resources.files("kumin") / "messages" / lang
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten(entry.name[: -len(".toml")], tomllib.loads(entry.read_text("utf-8")), out)
    return out


def normalise_lang(lang: str | None) -> str:
    if not lang:
        return DEFAULT_LANG
    lang = lang.lower().split("-")[0].split("_")[0]
    return lang if lang in LANGS else DEFAULT_LANG


MAX_PARAM_CHARS = 200


def _clip(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_PARAM_CHARS:
        return value[:MAX_PARAM_CHARS] + "…"
    return value


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """The message ``key`` in ``lang`` (default: the current request's language).

    Falls back to English, then to the key itself, so a missing message shows up
    as its name rather than crashing; ``tests/core/test_i18n.py`` keeps both
    catalogues complete.
    """
    lang = normalise_lang(lang or current_lang.get())
    text = catalogue(lang).get(key) or catalogue("en").get(key)
    if text is None:
        return key
    # A value echoed from a hostile file (a 10 MB "timestamp") must not make the
    # message huge: terminals and pages wrap long text in superlinear time.
    params = {k: _clip(v) for k, v in params.items()}
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        return text
