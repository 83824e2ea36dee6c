// Sends the CSRF token with every HTMX request; no inline scripts anywhere (CSP).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
// Charts: <div class="plot" data-figure="/path/to/figure.json"> is drawn with Plotly.
// A failed request shows the server's message (or a generic one), a figure without
// data says so, and the models' warnings are listed above the chart (#14).
function kuminPlotMessage(el, text, cls) {
  var p = document.createElement("p");
  p.className = "plot-message " + cls;
  p.setAttribute("role", cls === "error" ? "alert" : "status");
  p.textContent = text;
  el.replaceChildren(p);
  el.dataset.state = cls === "error" ? "error" : "empty";
}
function kuminHasData(fig) {
  return (fig.data || []).some(function (tr) {
    var ys = tr.y || tr.values || [];
    return ys.some(function (v) { return v !== null && v !== undefined; });
  });
}
// Plotly's tool tips and month names in the page's language (kumin.web.plotly_locale);
// the share button, which would send the chart to a cloud service, is removed.
var kuminPlotConfig = null;
function kuminPlotlyConfig() {
  if (kuminPlotConfig) { return kuminPlotConfig; }
  kuminPlotConfig = {responsive: true, displaylogo: false, showSendToCloud: false,
                     modeBarButtonsToRemove: ["sendChartToCloud", "sendDataToCloud"]};
  var block = document.getElementById("plotly-locale");
  if (block) {
    var locale = JSON.parse(block.textContent);
    Plotly.register(locale);
    kuminPlotConfig.locale = locale.name;
  }
  return kuminPlotConfig;
}
function kuminDrawPlots(root) {
  var texts = document.body.dataset;
  (root || document).querySelectorAll("div.plot[data-figure]").forEach(function (el) {
    if (el.dataset.drawn) { return; }
    el.dataset.drawn = "1";
    // the chart library did not load: say so rather than leave a blank box
    if (typeof Plotly === "undefined") { kuminPlotMessage(el, texts.chartError, "error"); return; }
    fetch(el.dataset.figure, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) {
        return r.json().then(function (body) { return {ok: r.ok, body: body}; },
                             function () { return {ok: false, body: {}}; });
      })
      .then(function (res) {
        if (!res.ok) {
          var err = res.body && res.body.error;
          kuminPlotMessage(el, (err && err.message) || texts.chartError, "error");
          return;
        }
        var fig = res.body;
        if (fig.warnings && fig.warnings.length) {
          var ul = document.createElement("ul");
          ul.className = "model-warnings";
          ul.setAttribute("role", "status");
          fig.warnings.forEach(function (w) {
            var li = document.createElement("li");
            li.textContent = w;
            ul.appendChild(li);
          });
          el.parentNode.insertBefore(ul, el);
        }
        if (!kuminHasData(fig)) { kuminPlotMessage(el, texts.chartEmpty, "note"); return; }
        Plotly.newPlot(el, fig.data, fig.layout || {}, kuminPlotlyConfig());
        el.dataset.state = "drawn";
      })
      .catch(function () { kuminPlotMessage(el, texts.chartError, "error"); });
  });
}
document.addEventListener("DOMContentLoaded", function () { kuminDrawPlots(document); });
// A fragment HTMX fetches (a table computed on load, a job started) that fails says
// why in its place: the server's own message when it sent one, else a generic one.
function kuminFragmentError(e) {
  var target = e.detail.target;
  if (!target) { return; }
  var text = document.body.dataset.chartError;
  var xhr = e.detail.xhr;
  if (xhr && xhr.responseText) {
    try {
      var json = JSON.parse(xhr.responseText);
      if (json.error && json.error.message) { text = json.error.message; }
    } catch (err) {
      var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
      var alert = doc.querySelector("main [role=alert]");
      if (alert && alert.textContent.trim()) { text = alert.textContent.trim(); }
    }
  }
  kuminPlotMessage(target, text, "error");
}
document.addEventListener("htmx:responseError", kuminFragmentError);
document.addEventListener("htmx:sendError", kuminFragmentError);
document.addEventListener("htmx:afterSettle", function (e) { kuminDrawPlots(e.target); });
// Confirm dangerous actions: <button data-confirm="...">
document.addEventListener("click", function (e) {
  var el = e.target.closest("[data-confirm]");
  if (el && !window.confirm(el.dataset.confirm)) { e.preventDefault(); }
});
// Tables: every <table class="data"> with a <thead> can be sorted (click a heading),
// filtered, paged and downloaded as CSV (UTF-8 with BOM) or Excel, like datasette (#14).
// The download posts the rows the user sees (filtered, sorted, every page) to
// /tables/export, which writes the file. <table data-plain> opts out.
var KUMIN_PAGE_SIZE = 50;
var kuminCollator = new Intl.Collator("ja", {numeric: true, sensitivity: "base"});
function kuminFormat(text, values) {
  return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k]; });
}
function kuminCellText(td) { return (td.innerText || td.textContent || "").trim(); }
function kuminTable(table) {
  if (table.dataset.enhanced || table.hasAttribute("data-plain")) { return; }
  var head = table.tHead, body = table.tBodies[0];
  if (!head || !body || !head.rows.length) { return; }
  var rows = Array.prototype.slice.call(body.rows).filter(function (tr) {
    return !tr.querySelector("td[colspan]");
  });
  if (rows.length < 2) { return; }
  table.dataset.enhanced = "1";
  var texts = document.body.dataset;
  var state = {sort: -1, desc: false, filter: "", page: 0, shown: rows};
  var tools = document.createElement("div");
  tools.className = "table-tools";
  var filter = document.createElement("input");
  filter.type = "search";
  filter.className = "table-filter";
  filter.placeholder = texts.tableFilter;
  filter.setAttribute("aria-label", texts.tableFilter);
  var count = document.createElement("span");
  count.className = "table-count";
  var csv = document.createElement("button");
  csv.type = "button"; csv.className = "table-csv"; csv.textContent = texts.tableCsv;
  var xlsx = document.createElement("button");
  xlsx.type = "button"; xlsx.className = "table-xlsx"; xlsx.textContent = texts.tableXlsx;
  tools.append(filter, count, csv, xlsx);
  table.parentNode.insertBefore(tools, table);
  var pager = document.createElement("div");
  pager.className = "table-pager";
  var prev = document.createElement("button");
  prev.type = "button"; prev.className = "table-prev"; prev.textContent = texts.tablePrev;
  var where = document.createElement("span");
  where.className = "table-page";
  var next = document.createElement("button");
  next.type = "button"; next.className = "table-next"; next.textContent = texts.tableNext;
  pager.append(prev, where, next);
  table.parentNode.insertBefore(pager, table.nextSibling);
  var heads = Array.prototype.slice.call(head.rows[head.rows.length - 1].cells);
  heads.forEach(function (th, i) {
    th.classList.add("sortable");
    th.title = texts.tableSort;
    th.tabIndex = 0;
    var sortBy = function () {
      state.desc = state.sort === i ? !state.desc : false;
      state.sort = i;
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", state.desc ? "descending" : "ascending");
      state.page = 0;
      render();
    };
    th.addEventListener("click", sortBy);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(); } });
  });
  function render() {
    var needle = state.filter.toLowerCase();
    var shown = rows.filter(function (tr) {
      return !needle || kuminCellText(tr).toLowerCase().indexOf(needle) >= 0;
    });
    if (state.sort >= 0) {
      var i = state.sort, sign = state.desc ? -1 : 1;
      shown.sort(function (a, b) {
        var x = a.cells[i] ? kuminCellText(a.cells[i]) : "";
        var y = b.cells[i] ? kuminCellText(b.cells[i]) : "";
        if (x === "" || y === "") { return x === y ? 0 : (x === "" ? 1 : -1); }
        return sign * kuminCollator.compare(x.replace(/,/g, ""), y.replace(/,/g, ""));
      });
    }
    state.shown = shown;
    var pages = Math.max(1, Math.ceil(shown.length / KUMIN_PAGE_SIZE));
    state.page = Math.min(state.page, pages - 1);
    var first = state.page * KUMIN_PAGE_SIZE, last = first + KUMIN_PAGE_SIZE;
    rows.forEach(function (tr) { tr.hidden = true; });
    shown.forEach(function (tr, k) { body.appendChild(tr); tr.hidden = k < first || k >= last; });
    count.textContent = kuminFormat(texts.tableRows, {count: shown.length.toLocaleString("ja-JP")});
    where.textContent = kuminFormat(texts.tablePage, {page: state.page + 1, pages: pages});
    pager.hidden = pages < 2;
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
  }
  filter.addEventListener("input", function () { state.filter = filter.value; state.page = 0; render(); });
  prev.addEventListener("click", function () { state.page -= 1; render(); });
  next.addEventListener("click", function () { state.page += 1; render(); });
  function download(format) {
    var columns = heads.map(kuminCellText);
    var data = state.shown.map(function (tr) {
      return columns.map(function (_, i) { return tr.cells[i] ? kuminCellText(tr.cells[i]) : ""; });
    });
    var name = table.dataset.exportName || table.id ||
      (document.querySelector("h1") ? document.querySelector("h1").textContent.trim() : "table");
    var meta = document.querySelector('meta[name="csrf-token"]');
    fetch("/tables/export", {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRF-Token": meta ? meta.content : ""},
      body: JSON.stringify({format: format, name: name, columns: columns, rows: data})
    }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.blob();
    }).then(function (blob) {
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = name + "." + format;
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }).catch(function () { window.alert(texts.chartError); });
  }
  csv.addEventListener("click", function () { download("csv"); });
  xlsx.addEventListener("click", function () { download("xlsx"); });
  render();
}
function kuminTables(root) {
  (root || document).querySelectorAll("table.data").forEach(kuminTable);
}
document.addEventListener("DOMContentLoaded", function () { kuminTables(document); });
document.addEventListener("htmx:afterSettle", function (e) { kuminTables(e.target); });
