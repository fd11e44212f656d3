(function () {
  var map = {{ this.map_name }};
  var T = {{ this.texts }};
  function plain(s) { var t = document.createElement("textarea"); t.innerHTML = s; return t.value; }
  function where(f) { return f.getLatLng ? f.getLatLng() : f.getBounds().getCenter(); }
  L.control.scale({metric: true, imperial: false}).addTo(map);
  var north = L.control({position: "bottomright"});
  north.onAdd = function () {
    var d = L.DomUtil.create("div", "layout-north");
    d.innerHTML = '<svg width="28" height="40" viewBox="0 0 28 40"><polygon points="14,2 24,30 14,24 4,30" '
      + 'fill="#222"/><text x="14" y="39" font-size="11" text-anchor="middle">' + T.north + '</text></svg>';
    return d;
  };
  north.addTo(map);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  map.attributionControl.addAttribution({{ this.attribution }});
  var papers = {{ this.papers }};
  var entries = [];
  {{ this.search }}.forEach(function (s) {
    // A page script may keep features off the map until chosen (layoutAll lists them all).
    (s[0].layoutAll || s[0].getLayers()).forEach(function (f) {
      var v = f.feature && f.feature.properties[s[1]];
      if (v) { entries.push({name: plain(v), layer: f, group: s[0]}); }
    });
  });
  var tools = L.control({position: "topleft"});
  tools.onAdd = function () {
    var d = L.DomUtil.create("div", "layout-tools leaflet-bar");
    d.style.background = "white"; d.style.padding = "4px";
    var names = entries.map(function (e) { return "<option>" + e.name.replace(/&/g, "&amp;")
      .replace(/</g, "&lt;") + "</option>"; }).join("");
    d.innerHTML = '<input id="layout-search" list="layout-search-names" placeholder="' + T.search
      + '"><datalist id="layout-search-names">' + names + '</datalist>'
      + '<div id="layout-search-result"></div>'
      + '<button id="layout-measure" type="button">' + T.measure + '</button> '
      + '<button id="layout-print" type="button">' + T.print + '</button> '
      + '<label>' + T.paper + ' <select id="layout-paper">' + papers.map(function (p) {
        return "<option>" + p + "</option>"; }).join("") + '</select></label>'
      + '<div id="layout-measure-result"></div>';
    L.DomEvent.disableClickPropagation(d);
    L.DomEvent.disableScrollPropagation(d);
    return d;
  };
  tools.addTo(map);
  var result = document.getElementById("layout-search-result");
  document.getElementById("layout-search").addEventListener("change", function (e) {
    var q = e.target.value.trim();
    var hit = entries.find(function (x) { return x.name === q; })
      || entries.find(function (x) { return q && x.name.indexOf(q) >= 0; });
    if (!hit) { result.textContent = T.missing + q; return; }
    if (!map.hasLayer(hit.group)) { map.addLayer(hit.group); }
    map.fire("layout:find", {layer: hit.layer});  // a page script may switch to show it
    var ll = where(hit.layer);
    if (hit.layer.getBounds) { map.fitBounds(hit.layer.getBounds(), {maxZoom: 15}); }
    else { map.setView(ll, Math.max(map.getZoom(), 15)); }
    hit.layer.fire("click", {latlng: ll}, true);
    result.textContent = T.found + hit.name;
  });
  document.getElementById("layout-print").addEventListener("click", function () { window.print(); });
  document.getElementById("layout-paper").addEventListener("change", function (e) {
    document.getElementById("layout-page").textContent = {{ this.page_css }}.replace("PAPER", e.target.value);
  });
  var measuring = false, points = [], line = L.polyline([], {color: "#000", weight: 2, dashArray: "6 4"});
  var shown = document.getElementById("layout-measure-result");
  function length() {
    var d = 0;
    for (var i = 1; i < points.length; i++) { d += map.distance(points[i - 1], points[i]); }
    return d < 1000 ? Math.round(d).toLocaleString("en") + " " + T.metres
      : (d / 1000).toLocaleString("en", {maximumFractionDigits: 2}) + " " + T.km;
  }
  function add(e) { points.push(e.latlng); line.setLatLngs(points); shown.textContent = length(); }
  document.getElementById("layout-measure").addEventListener("click", function () {
    measuring = !measuring;
    if (measuring) { points = []; line.setLatLngs([]).addTo(map); map.on("click", add);
      shown.textContent = T.measuring; }
    else { map.off("click", add); }
  });
  {{ this.labels }}.forEach(function (s) {
    var group = L.layerGroup();
    s[0].eachLayer(function (f) {
      var v = f.feature && f.feature.properties[s[1]];
      var point = Boolean(f.getLatLng);  // a point's label stands beside it, not over it
      if (v) { group.addLayer(L.tooltip({permanent: true, direction: point ? "right" : "center",
        offset: point ? [8, 0] : [0, 0], className: "layout-label", interactive: false})
        .setLatLng(where(f)).setContent(v)); }
    });
    function update() {
      if (map.getZoom() >= s[2] && map.hasLayer(s[0])) { group.addTo(map); } else { group.remove(); }
    }
    map.on("zoomend overlayadd overlayremove", update);
    update();
  });
})();
