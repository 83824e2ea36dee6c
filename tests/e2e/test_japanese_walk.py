"""In a real browser: every page of every role, in Japanese, after its scripts ran (#14).

The in-process walk (tests/web/test_japanese_pages.py) reads the HTML the server
sends. Here Chromium opens the same pages (the same walk: the app's GET routes,
then their links) and the same checks run on what a person sees once HTMX and the
page scripts have filled it in: tables loaded by HTMX, Plotly charts with their
titles, axis labels and tick labels, the tables' own tools, error and empty-state
messages. A console error or an uncaught script error on any page fails too.

One browser, one context per role, one seeded ward.
"""

from __future__ import annotations

import html
import os
import time

import pytest
from tests.conftest import PASSWORD, make_users
from tests.web.japanese_walk import route_pages, text_findings, walk
from tests.web.ward import seed_ward

pytestmark = pytest.mark.e2e

#: counts every fetch and XHR in flight, so "done" means the page's own requests ended
PENDING = """
(() => {
  window.__kuminPending = 0;
  const done = () => { window.__kuminPending -= 1; };
  const fetch0 = window.fetch;
  window.fetch = function (...args) {
    window.__kuminPending += 1;
    return fetch0.apply(this, args).finally(done);
  };
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    window.__kuminPending += 1;
    this.addEventListener("loadend", done, {once: true});
    return send0.apply(this, args);
  };
})();
"""

#: the page has settled: loaded, no request in flight, every chart drawn or explained
SETTLED = """
() => document.readyState === "complete"
  && window.__kuminPending === 0
  && !document.querySelector(".htmx-request, .htmx-settling, .htmx-swapping")
  && [...document.querySelectorAll("div.plot[data-figure]")].every(el => el.dataset.state)
"""

#: what a person reads: visible text (as innerText, but also the SVG text of charts)
#: and the labels of controls; raw records set in <code>/<pre> are data, not UI
TEXT = """
() => {
  const skip = "script, style, code, pre, textarea, noscript, template";
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.data.trim() || el.closest(skip)) { continue; }
    // rows on a later page of a table are hidden but are the page's text all the same
    if (!el.checkVisibility() && !el.closest("tr[hidden]")) { continue; }
    out.push(node.data);
  }
  for (const el of document.querySelectorAll("[title], [placeholder], [aria-label], [alt], [data-title]")) {
    if (el.closest(skip)) { continue; }
    for (const a of ["title", "placeholder", "aria-label", "alt", "data-title"]) {
      if (el.getAttribute(a)) { out.push(el.getAttribute(a)); }
    }
  }
  for (const el of document.querySelectorAll("input[type=submit], input[type=button]")) {
    if (el.value) { out.push(el.value); }
  }
  out.push(document.title);
  return out;
}
"""


def _walk_role(browser, base: str, name: str, starts: list[str]):
    context = browser.new_context(locale="ja-JP", base_url=base)
    context.add_init_script(PENDING)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(base + "/")
    texts: dict[str, list[str]] = {}

    def get(url: str):
        t0 = time.perf_counter()
        try:
            response = page.goto(url)
        except Exception as exc:  # a download (no page to read) is not a page
            if "Download is starting" in str(exc):
                return 204, "", ""
            raise
        ctype = response.headers.get("content-type", "") if response else ""
        if response is None or response.status != 200 or "text/html" not in ctype:
            return (response.status if response else 0), ctype, ""
        page.wait_for_function(SETTLED, timeout=60_000, polling=50)
        texts[url] = page.evaluate(TEXT)
        hrefs = page.eval_on_selector_all("a[href]", "as => as.map(a => a.getAttribute('href'))")
        if os.environ.get("WALK_TIMES"):  # per-page seconds, to find a slow page
            print(f"{time.perf_counter() - t0:6.2f} {url}")
        return 200, ctype, "".join(f'<a href="{html.escape(h)}"></a>' for h in hrefs)

    def check(url: str, _html: str):
        return text_findings(url, texts[url])

    pages, found = walk(get, limit=120, per_pattern=2, starts=starts, check=check)
    context.close()
    return pages, found, errors


def test_every_page_of_every_role_in_the_browser(sqlite_db, live_server, browser, tmp_path):
    from kumin.web.app import create_app

    accounts = seed_ward(make_users(sqlite_db), tmp_path)
    starts = route_pages(create_app(sqlite_db))
    report: list[str] = []
    read = 0
    for role, name in sorted(accounts.by_role.items()):
        pages, found, errors = _walk_role(browser, live_server, name, starts)
        assert len(pages) >= 3, role
        read += len(pages)
        report += [f"{role} {url}: {kind} {text!r}" for url, kind, text in found]
        report += [f"{role} console: {e}" for e in errors]
    print(f"browser walk: {read} pages")
    assert not report, "\n".join(sorted(set(report)))
