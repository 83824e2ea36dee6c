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
function kuminDrawPlots(root) {
  if (typeof Plotly === "undefined") { return; }
  var texts = document.body.dataset;
  (root || document).querySelectorAll("div.plot[data-figure]").forEach(function (el) {
    if (el.dataset.drawn) { return; }
    el.dataset.drawn = "1";
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
        Plotly.newPlot(el, fig.data, fig.layout || {}, {responsive: true, displaylogo: false});
        el.dataset.state = "drawn";
      })
      .catch(function () { kuminPlotMessage(el, texts.chartError, "error"); });
  });
}
document.addEventListener("DOMContentLoaded", function () { kuminDrawPlots(document); });
document.addEventListener("htmx:afterSettle", function (e) { kuminDrawPlots(e.target); });
// Confirm dangerous actions: <button data-confirm="...">
document.addEventListener("click", function (e) {
  var el = e.target.closest("[data-confirm]");
  if (el && !window.confirm(el.dataset.confirm)) { e.preventDefault(); }
});
