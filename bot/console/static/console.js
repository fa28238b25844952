// Draw every server-built figure: <div class="chart" data-figure="ID"> + <script type="application/json" id="ID">.
(function () {
  "use strict";
  function draw() {
    if (typeof Plotly === "undefined") { return; }
    document.querySelectorAll(".chart[data-figure]").forEach(function (div) {
      var source = document.getElementById(div.dataset.figure);
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      Plotly.newPlot(div, figure.data, figure.layout, { displaylogo: false, responsive: true })
        .then(function () { div.dataset.rendered = "true"; });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
