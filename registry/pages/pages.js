"use strict";
// skillpm registry pages: filter the package list as you type, and name this registry's URL
// in install commands. The pages work without this script.
(function () {
  var input = document.getElementById("filter");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#packages tbody tr"));
  var status = document.getElementById("filter-status");
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (row, i) {
      var match = words.every(function (word) { return texts[i].indexOf(word) !== -1; });
      row.hidden = !match;
      if (match) { shown += 1; }
    });
    status.textContent = shown + " of " + rows.length + " packages";
  }
  if (input && status) {
    document.getElementById("filter-form").hidden = false;
    input.addEventListener("input", apply);
    apply();
  }
  var root = document.body.getAttribute("data-root") === "../" ? "../" : "./";
  var url = new URL(root, window.location.href).href;
  document.querySelectorAll("[data-registry-url]").forEach(function (element) {
    element.textContent = url;
  });
})();
