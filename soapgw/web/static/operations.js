// Operation forms: narrow the suggestions (connectors, configuration keys, transactions,
// reservations) to the charge points chosen in the form. Without JavaScript every
// suggestion stays offered; a value not suggested may always be typed.
document.addEventListener("DOMContentLoaded", function () {
  var stations = document.getElementById("stations");
  if (!stations) { return; }
  function narrow() {
    var chosen = Array.prototype.map.call(stations.selectedOptions, function (o) { return o.value; });
    document.querySelectorAll("datalist option[data-stations]").forEach(function (option) {
      var of = JSON.parse(option.getAttribute("data-stations"));
      option.disabled = chosen.length > 0 && !of.some(function (s) { return chosen.indexOf(s) >= 0; });
    });
  }
  stations.addEventListener("change", narrow);
  narrow();
});
