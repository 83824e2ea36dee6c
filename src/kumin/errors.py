"""Every error kumin raises on purpose, in one hierarchy.

Each surface translates these in exactly one place: the CLI prints one line and
exits 1 (2 for ``UsageError``), the web pages render an error page, and the JSON
API answers ``{"error": {"code": ..., "message": ...}}``.

::

    KuminError                  message key + parameters, rendered in the user's language
    ├── UsageError              bad command-line usage (exit code 2)
    ├── UserError               bad request by a user (exit code 1, HTTP 400)
    │   ├── ParameterError      a parameter out of its allowed range (also a ValueError)
    │   ├── NotFittedError      an estimator used before ``fit`` (also an AttributeError)
    │   ├── DataError           bad input data, e.g. an import; carries ``problems``
    │   ├── StateError          a step out of order, e.g. in a card workflow (HTTP 409)
    │   └── NotFound            no such object (HTTP 404)
    ├── AuthError               sign-in failed or the session is gone (HTTP 401)
    │   └── Throttled           too many failed sign-ins: wait before trying (HTTP 429)
    ├── PermissionDenied        the role may not do this (HTTP 403)
    └── ConfigError             the installation is misconfigured (key file, database)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


class KuminError(Exception):
    """Base class. ``key`` names a message in the catalogue; ``params`` fill it.

    ``str(error)`` gives the English text so that library users and logs see a
    readable message; surfaces call :meth:`render` with the user's language.
    """

    exit_code = 1
    http_status = 400
    code = "error"

    def __init__(self, key: str, /, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(self.render("en"))

    def render(self, lang: str = "ja") -> str:
        from kumin.core.i18n import t

        return t(self.key, lang, **self.params)


class UsageError(KuminError):
    exit_code = 2
    code = "usage"


class UserError(KuminError):
    code = "invalid"


class ParameterError(UserError, ValueError):
    """A parameter outside its constraints (scikit-learn style message)."""

    code = "parameter"

    def render(self, lang: str = "ja") -> str:
        from kumin.core.i18n import normalise_lang, t

        params = self.params
        if "constraint" in params and normalise_lang(lang) == "ja":
            # "an int in [1, 16]" is English inside a Japanese sentence (#14)
            params = {**params, "constraint": constraint_ja(str(params["constraint"]))}
        return t(self.key, lang, **params)


_CONSTRAINT = re.compile(r"(an int|a float) (?:in ([\[(][^\])]*[\])])|([<>]=?) (\S+))(.*)")


def constraint_ja(text: str) -> str:
    """``an int in [1, 16]`` → ``[1, 16] の範囲の整数``; ``a float > 0`` → ``0 より大きい実数``.

    >>> constraint_ja("a float in (0, 1]")
    '(0, 1] の範囲の実数'
    """
    m = _CONSTRAINT.fullmatch(text.strip())
    if not m:
        return text
    kind = "整数" if m.group(1) == "an int" else "実数"
    interval, op, bound, rest = m.group(2), m.group(3), m.group(4), m.group(5).strip()
    if interval:
        out = f"{interval} の範囲の{kind}"
    else:
        word = {">": "より大きい", ">=": "以上の", "<": "より小さい", "<=": "以下の"}[op]
        out = f"{bound} {word}{kind}"
    rest = re.sub(r"when the data lack (\w+)", r"データに \1 がない場合", rest)
    return f"{out}（{rest}）" if rest else out


class NotFittedError(UserError, AttributeError):
    code = "not_fitted"


@dataclass(frozen=True)
class Problem:
    """One problem found in input data. ``line`` counts the header as line 1."""

    line: int | None
    column: str | None
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    severity: str = "error"  # "error" rejects the file, "warning" is kept and reported

    def render(self, lang: str = "ja") -> str:
        from kumin.core.i18n import t

        reason = t(self.key, lang, **self.params)
        where = []
        if self.line is not None:
            where.append(t("core.problem.line", lang, line=self.line))
        if self.column:
            where.append(t("core.problem.column", lang, column=self.column))
        return f"{' '.join(where)}: {reason}" if where else reason


class DataError(UserError):
    """Bad input data. ``problems`` lists every problem found, not just the first."""

    code = "data"

    def __init__(self, key: str, /, problems: list[Problem] | None = None, **params: Any):
        self.problems = list(problems or [])
        params.setdefault("count", len(self.problems))
        super().__init__(key, **params)

    def render(self, lang: str = "ja") -> str:
        head = super().render(lang)
        if not self.problems:
            return head
        return "\n".join([head, *(p.render(lang) for p in self.problems)])


class StateError(UserError):
    http_status = 409
    code = "state"


class NotFound(UserError):
    http_status = 404
    code = "not_found"


class AuthError(KuminError):
    http_status = 401
    code = "auth"


class Throttled(AuthError):
    http_status = 429
    code = "throttled"


class PermissionDenied(KuminError):
    http_status = 403
    code = "forbidden"


class ConfigError(KuminError):
    http_status = 500
    code = "config"
