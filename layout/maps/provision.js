(function () {
  var map = {{ this.map_name }};
  var N = {{ this.layers }};
  var layers = {towns: window[N.towns], cells: window[N.cells], schools: window[N.schools]};
  var K = {{ this.keys }};
  // With more cells than the map budget, the cells are one image per level|scenario|year.
  var IMG = {{ this.images }}, raster = Object.keys(IMG).length > 0;
  var T = {{ this.texts }};
  var C = {{ this.colours }};
  var state = {level: K.levels[0], scenario: K.focus, year: K.years[0]};
  var all = {cells: raster ? [] : layers.cells.getLayers(), schools: layers.schools.getLayers()};
  // Thousands of cells draw much faster on a canvas than as SVG paths; the townships share it
  // (the cells drawn over them), the schools stay SVG in a pane above.
  var canvas = L.canvas({padding: 0.5});
  map.createPane("layout-schools").style.zIndex = 450;
  layers.towns.eachLayer(function (f) { f.options.renderer = canvas; });
  all.cells.forEach(function (f) { f.options.renderer = canvas; });
  all.schools.forEach(function (f) { f.options.pane = "layout-schools"; });
  layers.schools.layoutAll = all.schools;  // the search finds schools of every level
  function key() { return state.level + "|" + state.scenario + "|" + state.year; }
  function n(x) { return Math.round(x).toLocaleString("en"); }
  function count(x) { return x > 0 && x < 0.5 ? "<1" : n(x); }
  function pct(a, b) { return b > 0 ? Math.round(100 * a / b) + "%" : "-"; }
  function row(label, value) {
    return "<tr><th style='text-align:left;padding-right:8px'>" + label + "</th><td>" + value + "</td></tr>";
  }
  function head() { return T.names[state.level] + " · " + T.names[state.scenario] + " · " + state.year; }
  function table(title, rows) {
    return "<b>" + title + "</b><div>" + head() + "</div><table>" + rows.join("")
      + "</table><div class='layout-norm'>" + T.norm[state.level] + "</div>";
  }
  var unit = T.people ? " " + T.people : "";
  function townText(f) {
    var p = f.feature.properties, v = p.v[key()] || [0, 0, 0];
    var gap = v[0] - v[1];
    return table(p.name, [row(T.children, n(v[0]) + unit), row(T.places, n(v[1])),
      row(T.gap, (gap > 0 ? "+" : "") + n(gap)), row(T.use, pct(v[0], v[1]))]);
  }
  function schoolText(f) {
    var p = f.feature.properties, v = p.v[key()] || [0, 0, 0];
    return table(p.name + " (" + p.school_id + ")", [row(T.pupils, n(v[0]) + unit),
      row(T.places, n(v[1])), row(T.use, pct(v[0], v[1]))]);
  }
  // A cell's counts: one list per level and scenario, [children, unserved, beyond] per year.
  function cell(f) {
    var i = K.levels.indexOf(state.level) * K.scenarios.length + K.scenarios.indexOf(state.scenario);
    var all = f.feature.properties.v[i] || [], y = 3 * K.years.indexOf(state.year);
    var c = all[y] || 0, u = all[y + 1] || 0, b = all[y + 2] || 0;
    if (!u && !b) { return null; }
    return [c, u, b, u && b ? "both" : (u ? "no_place" : "beyond")];
  }
  function cellText(f) {
    var p = f.feature.properties, v = cell(f) || [0, 0, 0, ""];
    return table(p.cell_id, [row(T.reason, T[v[3]] || "-"), row(T.children, count(v[0]) + unit),
      row(T.unserved, count(v[1]) + unit), row(T.far, count(v[2]) + unit)]);
  }
  var texts = raster ? {towns: townText, schools: schoolText}
    : {towns: townText, schools: schoolText, cells: cellText};
  Object.keys(texts).forEach(function (name) {
    layers[name].eachLayer(function (f) {
      f.bindTooltip(function () { return texts[name](f); }, {sticky: true});
      f.bindPopup(function () { return texts[name](f); });
    });
  });
  function restyle() {
    var k = key();
    layers.towns.eachLayer(function (f) {
      var v = f.feature.properties.v[k];
      f.setStyle({fillColor: v ? C.gap[v[2]] : "#ffffff", fillOpacity: v ? 0.55 : 0.1});
    });
    if (raster) { layers.cells.setUrl(IMG[k]); }
    else { layers.cells.clearLayers(); }
    all.cells.forEach(function (f) {
      var v = cell(f);
      if (!v) { return; }
      layers.cells.addLayer(f);
      f.setStyle({fillColor: C.reason[v[3]], fillOpacity: 0.7, stroke: false});
    });
    layers.schools.clearLayers();
    all.schools.forEach(function (f) {
      var v = f.feature.properties.v[k];
      if (!v) { return; }
      var over = v[0] > v[1];
      layers.schools.addLayer(f);
      f.setStyle({fillColor: C.gap[v[2]], fillOpacity: 0.9, color: over ? "#000000" : "#333333",
        weight: over ? 3 : 1, radius: Math.max(3, Math.min(12, 3 + Math.sqrt(v[0]) / 6))});
    });
    document.getElementById("layout-heading").textContent = head() + " · " + T.norm[state.level];
    document.getElementById("layout-year-label").textContent = state.year;
  }
  function options(codes, chosen) {
    return codes.map(function (c) {
      return "<option value='" + c + "'" + (c === chosen ? " selected" : "") + ">" + T.names[c] + "</option>";
    }).join("");
  }
  var panel = L.control({position: "bottomleft"});
  panel.onAdd = function () {
    var d = L.DomUtil.create("div", "layout-switch");
    d.id = "layout-years";
    d.style.cssText = "background:white;padding:6px 10px;border:1px solid #999;font:13px sans-serif";
    d.innerHTML = T.level + ": <select id='layout-level'>" + options(K.levels, state.level)
      + "</select> " + T.scenario + ": <select id='layout-scenario'>"
      + options(K.scenarios, state.scenario) + "</select><br>" + T.year
      + ": <input id='layout-year' type='range' min='0' max='" + (K.years.length - 1)
      + "' value='0' step='1'> <span id='layout-year-label'></span>";
    L.DomEvent.disableClickPropagation(d);
    return d;
  };
  panel.addTo(map);
  document.getElementById("layout-level").addEventListener("change", function (e) {
    state.level = e.target.value; restyle();
  });
  document.getElementById("layout-scenario").addEventListener("change", function (e) {
    state.scenario = e.target.value; restyle();
  });
  document.getElementById("layout-year").addEventListener("input", function (e) {
    state.year = K.years[Number(e.target.value)]; restyle();
  });
  // A school found by the search that teaches no child of the level shown: switch to its level.
  map.on("layout:find", function (e) {
    if (all.schools.indexOf(e.layer) < 0 || layers.schools.hasLayer(e.layer)) { return; }
    var v = e.layer.feature.properties.v;
    var level = K.levels.find(function (l) { return v[l + "|" + state.scenario + "|" + state.year]; });
    if (!level) { return; }
    state.level = level;
    document.getElementById("layout-level").value = level;
    restyle();
  });
  map.addLayer(layers.towns);
  restyle();  // fills the cells group while it is off the map: nothing is drawn twice
  map.addLayer(layers.cells);
})();
