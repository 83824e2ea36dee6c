"""Walk the pages a role can reach, as a Japanese user does, and list what is not Japanese.

Used by ``tests/web/test_japanese_pages.py`` (in-process) and runnable against a
demo installation. A finding is (url, kind, text); the kinds:

- ``escape``: a ``\\u3042``-style escape (raw JSON shown to a person);
- ``python``: ``None``, ``True`` or ``False`` shown as a value;
- ``identifier``: a snake_case code name (``volume_z``, ``reason_code``);
- ``english``: an English word that is not in :data:`ALLOWED`.

Data a user typed or imported (names, free text) is theirs, not the UI's: the
walk reads the page's own text, and tests give their records Japanese values.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

#: Words a Japanese officer reads as they are: product, format and method names,
#: units and standard abbreviations.
ALLOWED = {
    "kumin",
    "api",
    "csv",
    "xlsx",
    "excel",
    "pdf",
    "png",
    "svg",
    "html",
    "json",
    "md",  # Markdown, a download format of the security report
    "utf",
    "bom",
    "url",
    "her",
    "sys",
    "seir",
    "aic",
    "rt",
    "wis",
    "crps",
    "totp",
    "otp",
    "epiestim",
    "cori",
    "mistry",
    "nishiura",
    "linton",
    "plotly",
    "english",
    "id",
    "ids",
    "ok",
    "ng",
    "pin",
    "pins",
    "shift_jis",
    "cp932",
    "sha",
    "hmac",
    "aes",
    "gcm",
    "fy",
    "max",
    "min",
    "erlang",
    "toyo",
    "keizai",
    "ijid",
    "jpholiday",
    "juki",
    "net",
    "my",
    "number",
    "mynumber",
    "lgwan",
    "iso",
    "jis",
    "et",
    "al",
    # names of products, methods and people, and abbreviations used as they are
    "google",
    "authenticator",
    "qr",
    "dv",
    "newey",
    "west",
    "web",
    "bcg",
    "dots",
    "hpv",
    "mr",
    "vrs",
    "jst",
    "markdown",
    "ai",
}
WORD = re.compile(r"(?<![A-Za-z0-9_\-./@])[A-Za-z][A-Za-z]+(?![A-Za-z0-9_\-./@])")
IDENTIFIER = re.compile(r"(?<![A-Za-z0-9./\-])[a-z][a-z0-9]*_[a-z0-9_]+(?![A-Za-z0-9./\-])")
PYTHON = re.compile(r"(?<![A-Za-z])(None|True|False)(?![A-Za-z])")
ESCAPE = re.compile(r"\\u[0-9a-fA-F]{4}")
SKIP_PATHS = ("/logout", "/lang/", "/static", "/api/", "/docs", "/openapi")
SKIP_SUFFIXES = (".pdf", ".csv", ".xlsx", ".json", ".js", ".css", ".txt", ".md", ".zip")
SKIP_WORDS = ("download", "export", "reveal")


class _Text(HTMLParser):
    """The text a person reads: element text and the labels of controls."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style", "code", "pre", "textarea"):
            self._skip += 1
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        for name in ("title", "placeholder", "aria-label", "alt"):
            if a.get(name):
                self.parts.append(a[name])
        if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
            self.parts.append(a["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "pre", "textarea") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.parts.append(data)


def findings(url: str, html: str, allowed: set[str] = ALLOWED) -> list[tuple[str, str, str]]:
    """What on one page is not Japanese."""
    parser = _Text()
    parser.feed(html)
    return text_findings(url, parser.parts, allowed)


def text_findings(
    url: str, parts: list[str], allowed: set[str] = ALLOWED
) -> list[tuple[str, str, str]]:
    """What in these pieces of text a person reads is not Japanese (the browser walk
    gives the rendered DOM's text here, the in-process walk the HTML's)."""
    out: list[tuple[str, str, str]] = []
    for text in parts:
        for m in ESCAPE.finditer(text):
            out.append((url, "escape", m.group(0)))
        for m in PYTHON.finditer(text):
            out.append((url, "python", m.group(0)))
        for m in IDENTIFIER.finditer(text):
            if m.group(0).lower() not in allowed:
                out.append((url, "identifier", m.group(0)))
        for m in WORD.finditer(text):
            word = m.group(0)
            if word.lower() in allowed or PYTHON.fullmatch(word):
                continue
            out.append((url, "english", word))
    return out


def links(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.links


def route_pages(app) -> list[str]:
    """The app's own pages: every GET route without a path parameter, as declared.

    The walk starts from these (so a page no menu links to is still read) and
    follows links from them to the pages with parameters (a card, an alert).
    """
    out = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if "GET" not in methods or "{" in path or not _walkable(path, ""):
            continue
        out.add(path)
    return sorted(out)


def _walkable(path: str, query: str) -> bool:
    if path.startswith(SKIP_PATHS) or path.endswith(SKIP_SUFFIXES):
        return False
    return not (any(w in path for w in SKIP_WORDS) or "format=" in query or "lang=en" in query)


def walk(get, start: str = "/", limit: int = 400, per_pattern: int = 3, starts=(), check=None):
    """Visit the pages reachable from ``start`` (and ``starts``) with
    ``get(url) -> (status, type, text)``.

    Pages of the same shape (``/oplog/alerts/1``, ``/oplog/alerts/2``) are visited
    ``per_pattern`` times at most. ``check(url, text)`` lists a page's findings
    (default :func:`findings` on the HTML). Returns (pages read, findings): the
    pages read are the URLs that answered 200 with HTML.
    """
    check = check or findings
    seen: set[str] = set()
    read: list[str] = []
    shapes: dict[str, int] = {}
    queue = [start, *starts]
    found: list[tuple[str, str, str]] = []
    while queue and len(seen) < limit:
        url = queue.pop(0)
        parts = urlsplit(url)
        path = parts.path
        if url in seen or parts.netloc or not path.startswith("/"):
            continue
        if not _walkable(path, parts.query):
            continue
        shape = re.sub(r"\d+", "N", path)
        if shapes.get(shape, 0) >= per_pattern:
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        seen.add(url)
        status, ctype, text = get(url)
        if status != 200 or "text/html" not in ctype:
            continue
        read.append(url)
        found.extend(check(url, text))
        for href in links(text):
            nxt = urljoin(url, href.split("#")[0])
            nxt = urlsplit(nxt)
            target = nxt.path + (f"?{nxt.query}" if nxt.query else "")
            if target not in seen:
                queue.append(target)
    return sorted(read), found
