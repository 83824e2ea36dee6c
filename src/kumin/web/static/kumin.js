// Sends the CSRF token with every HTMX request; no inline scripts anywhere (CSP).
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { event.detail.headers["X-CSRF-Token"] = meta.content; }
});
// Charts: <div class="plot" data-figure="/path/to/figure.json"> is drawn with Plotly.
function kuminDrawPlots(root) {
  if (typeof Plotly === "undefined") { return; }
  (root || document).querySelectorAll("div.plot[data-figure]").forEach(function (el) {
    if (el.dataset.drawn) { return; }
    el.dataset.drawn = "1";
    fetch(el.dataset.figure, {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (fig) {
        Plotly.newPlot(el, fig.data, fig.layout || {}, {responsive: true, displaylogo: false});
      });
  });
}
document.addEventListener("DOMContentLoaded", function () { kuminDrawPlots(document); });
document.addEventListener("htmx:afterSettle", function (e) { kuminDrawPlots(e.target); });
// Confirm dangerous actions: <button data-confirm="...">
document.addEventListener("click", function (e) {
  var el = e.target.closest("[data-confirm]");
  if (el && !window.confirm(el.dataset.confirm)) { e.preventDefault(); }
});
