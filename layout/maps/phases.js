// The year slider of the phased-plan map: the actions taken up to the chosen year are shown.
(function () {
  var map = {{ this.map_name }}, layer = {{ this.layer }};
  var years = {{ this.years }}, texts = {{ this.texts }};
  var all = [];
  layer.eachLayer(function (l) { all.push(l); });
  var box = L.control({position: "bottomleft"});
  box.onAdd = function () {
    var div = L.DomUtil.create("div", "layout-tools leaflet-bar");
    div.id = "layout-phase-years";
    div.style.background = "#fff";
    div.style.padding = "4px 6px";
    div.innerHTML = "<div>" + texts.until + " <b id='layout-phase-year'></b></div>"
      + "<input id='layout-phase-slider' type='range' min='0' max='" + (years.length - 1)
      + "' step='1' value='" + (years.length - 1) + "'>";
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    var input = div.querySelector("input"), label = div.querySelector("b");
    function show() {
      var year = years[Number(input.value)];
      label.textContent = String(year);
      all.forEach(function (l) {
        var on = Number(l.feature.properties.year) <= year;
        if (on && !layer.hasLayer(l)) { layer.addLayer(l); }
        if (!on && layer.hasLayer(l)) { layer.removeLayer(l); }
      });
    }
    input.addEventListener("input", show);
    show();
    return div;
  };
  box.addTo(map);
})();
