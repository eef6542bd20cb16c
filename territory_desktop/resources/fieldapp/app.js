/* Territory field app: offline (file://), data from data.js (window.FIELD_DATA), visits kept in
   localStorage, report exported as a JSON file. Every text reaches the page through textContent. */
(function () {
  "use strict";
  var D = window.FIELD_DATA;
  var PKG = D.package;
  var STORE = "territory-field:" + PKG.package_id;
  var byId = {};
  D.accounts.forEach(function (a) { byId[a.id] = a; });
  var state = load();
  var map, accountLayer, routeLayer, markers = {};

  /* ---------------------------------------------------------------- helpers */
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function uuid() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function today() { var d = new Date(); d.setMinutes(d.getMinutes() - d.getTimezoneOffset()); return d.toISOString().slice(0, 10); }
  function money(v) { return v >= 1e6 ? "$" + (v / 1e6).toFixed(2) + "M" : v >= 1e3 ? "$" + Math.round(v / 1e3) + "k" : "$" + Math.round(v); }
  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(STORE) || "null");
      if (s && s.package_id === PKG.package_id) return s;
    } catch (e) { /* a damaged store starts empty */ }
    return { package_id: PKG.package_id, visits: [], corrections: {} };
  }
  function save() { localStorage.setItem(STORE, JSON.stringify(state)); }

  /* ---------------------------------------------------------------- SHA-256 (FIPS 180-4) of a UTF-8 string */
  var K = [];
  (function () {
    var n = 2, found = 0;
    function frac(x) { return ((x - Math.floor(x)) * 4294967296) | 0; }
    while (found < 64) {
      var prime = true;
      for (var f = 2; f * f <= n; f++) if (n % f === 0) { prime = false; break; }
      if (prime) { K[found++] = frac(Math.pow(n, 1 / 3)); }
      n++;
    }
  })();
  function sha256(text) {
    var bytes = new TextEncoder().encode(text), len = bytes.length;
    var words = new Int32Array(((len + 9 + 63) >> 6) << 4);
    for (var i = 0; i < len; i++) words[i >> 2] |= bytes[i] << (24 - (i % 4) * 8);
    words[len >> 2] |= 0x80 << (24 - (len % 4) * 8);
    words[words.length - 1] = len * 8; words[words.length - 2] = Math.floor(len / 536870912);
    var H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var W = new Int32Array(64);
    function r(x, n) { return (x >>> n) | (x << (32 - n)); }
    for (var o = 0; o < words.length; o += 16) {
      for (var t = 0; t < 64; t++) {
        if (t < 16) W[t] = words[o + t];
        else W[t] = (r(W[t - 2], 17) ^ r(W[t - 2], 19) ^ (W[t - 2] >>> 10)) + W[t - 7] +
          (r(W[t - 15], 7) ^ r(W[t - 15], 18) ^ (W[t - 15] >>> 3)) + W[t - 16] | 0;
      }
      var a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (t = 0; t < 64; t++) {
        var t1 = h + (r(e, 6) ^ r(e, 11) ^ r(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + W[t] | 0;
        var t2 = (r(a, 2) ^ r(a, 13) ^ r(a, 22)) + ((a & b) ^ (a & c) ^ (b & c)) | 0;
        h = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
      }
      H[0] = H[0] + a | 0; H[1] = H[1] + b | 0; H[2] = H[2] + c | 0; H[3] = H[3] + d | 0;
      H[4] = H[4] + e | 0; H[5] = H[5] + f | 0; H[6] = H[6] + g | 0; H[7] = H[7] + h | 0;
    }
    return H.map(function (x) { return ((x >>> 0) + 4294967296).toString(16).slice(1); }).join("");
  }
  window.fieldSha256 = sha256;

  /* ---------------------------------------------------------------- map */
  function stopIcon(n) {
    var span = el("span", "stop-icon", n);
    return L.divIcon({ html: span, className: "", iconSize: [24, 24], iconAnchor: [12, 12] });
  }
  function drawMap() {
    map = L.map("map", { preferCanvas: true, zoomControl: true, attributionControl: false, zoomSnap: 0.25 });
    var outline = { color: "#9aa5b1", weight: 1, fill: false };
    D.units.forEach(function (u) { if (u.geometry) L.geoJSON(u.geometry, { style: outline, interactive: false }).addTo(map); });
    var terr = D.territory.geometry ? L.geoJSON(D.territory.geometry, {
      style: { color: "#2f6fb0", weight: 2, fillColor: "#2f6fb0", fillOpacity: 0.08 }, interactive: false }).addTo(map) : null;
    accountLayer = L.layerGroup().addTo(map);
    D.accounts.forEach(function (a) {
      if (!a.location) return;
      var m = L.circleMarker([a.location[1], a.location[0]], { radius: 4, weight: 1, color: "#1f2933",
        fillColor: a.segment === "A" ? "#d64545" : a.segment === "B" ? "#f0b429" : "#3ebd93", fillOpacity: 0.9 });
      m.on("click", function () { showDetails(a.id); });
      m.addTo(accountLayer);
      markers[a.id] = m;
    });
    routeLayer = L.layerGroup().addTo(map);
    if (terr && terr.getBounds().isValid()) map.fitBounds(terr.getBounds(), { padding: [10, 10] });
    else map.setView([39, -96], 4);
    document.documentElement.dataset.mapReady = String(performance.now());
    // the canvas renderer paints on the next animation frame: mark the first frame after it
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      document.documentElement.dataset.mapDrawn = String(performance.now()); }); });
  }

  /* ---------------------------------------------------------------- tabs */
  function tablet() { return window.matchMedia("(min-width: 768px)").matches; }
  function showTab(name) {
    if (name === "map" && tablet()) name = "accounts";
    document.querySelectorAll(".tabs button").forEach(function (b) { b.classList.toggle("active", b.dataset.tab === name); });
    document.querySelectorAll(".pane").forEach(function (p) { p.classList.toggle("active", p.dataset.pane === name); });
    if (map) setTimeout(function () { map.invalidateSize(); }, 0);
  }

  /* ---------------------------------------------------------------- accounts */
  function dueClass(a, week) {
    if (!a.due) return "";
    var t = today();
    if (a.due < t) return "overdue";
    return a.due <= week ? "week" : "";
  }
  function weekEnd() { var d = new Date(); d.setDate(d.getDate() + 7); return d.toISOString().slice(0, 10); }
  function renderAccounts() {
    var q = $("search").value.trim().toLowerCase(), seg = $("segment").value, due = $("due").value, week = weekEnd();
    var list = $("account-list"), shown = 0;
    list.replaceChildren();
    D.accounts.forEach(function (a) {
      var cls = dueClass(a, week);
      if (q && (a.name + " " + a.address + " " + a.id).toLowerCase().indexOf(q) < 0) return;
      if (seg && a.segment !== seg) return;
      if (due === "overdue" && cls !== "overdue") return;
      if (due === "week" && !cls) return;
      shown++;
      if (shown > 300) return;
      var li = el("li");
      if (a.due) li.appendChild(el("span", "tag " + cls, cls === "overdue" ? "overdue" : "due " + a.due));
      li.appendChild(el("div", "name", a.name));
      li.appendChild(el("div", "sub", a.segment + " · " + a.industry + " · " + money(a.potential) + " · " + a.address));
      li.addEventListener("click", function () { showDetails(a.id); });
      list.appendChild(li);
    });
    $("account-count").textContent = shown + " of " + D.accounts.length + " accounts" + (shown > 300 ? " (first 300 shown)" : "");
  }
  function row(table, label, value) {
    var tr = el("tr"); tr.appendChild(el("td", "", label)); tr.appendChild(el("td", "", value)); table.appendChild(tr);
  }
  function showDetails(id) {
    var a = byId[id], box = $("details");
    box.replaceChildren();
    box.hidden = false;
    box.appendChild(el("h3", "", a.name));
    var t = el("table");
    row(t, "Address", a.address); row(t, "Segment", a.segment + " · " + a.industry + " · " + a.size);
    row(t, "Potential", money(a.potential)); row(t, "Visits", a.every_weeks > 0 ? "every " + a.every_weeks + " weeks, " + a.minutes + " min" : "not on a visit cycle");
    row(t, "Opening hours", a.hours); row(t, "Next due", a.due || "not visited");
    if (a.contact_name || a.contact_phone) row(t, "Contact", [a.contact_name, a.contact_phone, a.contact_email].filter(Boolean).join(" · "));
    if (a.notes) row(t, "Notes", a.notes);
    box.appendChild(t);
    box.appendChild(el("h2", "", "Last visits"));
    var v = el("ul", "list");
    (a.visits.length ? a.visits : [{ date: "", outcome: "none on record", note: "" }]).forEach(function (x) {
      v.appendChild(el("li", "sub", [x.date, x.outcome, x.note].filter(Boolean).join(" · ")));
    });
    box.appendChild(v);
    box.appendChild(el("h2", "", "Open opportunities"));
    var o = el("ul", "list");
    (a.opportunities.length ? a.opportunities : [{ stage: "none", amount: null, id: "" }]).forEach(function (x) {
      o.appendChild(el("li", "sub", [x.id, x.stage, x.amount !== null ? money(x.amount) : ""].filter(Boolean).join(" · ")));
    });
    box.appendChild(o);
    var actions = el("div", "actions");
    var log = el("button", "primary", "Log visit"); log.type = "button";
    log.addEventListener("click", function () { startLog(id); });
    var show = el("button", "", "Show on map"); show.type = "button";
    show.addEventListener("click", function () { focus(id); });
    var close = el("button", "", "Close"); close.type = "button";
    close.addEventListener("click", function () { box.hidden = true; });
    actions.appendChild(log); actions.appendChild(show); actions.appendChild(close); box.appendChild(actions);
    if (!tablet()) showTab("accounts");
    box.scrollIntoView({ block: "nearest" });
  }
  function focus(id) {
    var a = byId[id];
    if (!a.location) return;
    showTab("map");
    map.setView([a.location[1], a.location[0]], Math.max(map.getZoom(), 11));
    if (markers[id]) markers[id].bindTooltip(a.name, { permanent: false }).openTooltip();
  }

  /* ---------------------------------------------------------------- route */
  function days() { var s = {}; D.schedule.forEach(function (v) { s[v.date] = true; }); return Object.keys(s).sort(); }
  function renderRoute() {
    var list = $("stops"), day = $("day").value, week = $("week-view").checked;
    list.replaceChildren();
    routeLayer.clearLayers();
    var current = null, line = [];
    D.schedule.forEach(function (s) {
      if (!week && s.date !== day) return;
      if (s.date !== current) {
        current = s.date; list.appendChild(el("li", "day", new Date(s.date + "T12:00").toDateString()));
        if (line.length > 1) L.polyline(line, { color: "#2f6fb0", weight: 3, opacity: 0.7 }).addTo(routeLayer);
        line = D.home ? [[D.home[1], D.home[0]]] : [];
      }
      var a = byId[s.account_id], li = el("li");
      li.appendChild(el("span", "num", s.seq));
      var text = el("div"); text.appendChild(el("div", "name", s.name));
      text.appendChild(el("div", "sub", s.arrive + "–" + s.depart + (a ? " · " + a.address : "")));
      li.appendChild(text);
      li.addEventListener("click", function () { showDetails(s.account_id); });
      list.appendChild(li);
      if (a && a.location) {
        line.push([a.location[1], a.location[0]]);
        L.marker([a.location[1], a.location[0]], { icon: stopIcon(s.seq) })
          .on("click", function () { showDetails(s.account_id); }).addTo(routeLayer);
      }
    });
    if (line.length > 1) L.polyline(line, { color: "#2f6fb0", weight: 3, opacity: 0.7 }).addTo(routeLayer);
    if (!list.children.length) list.appendChild(el("li", "sub", "No visits planned."));
  }

  /* ---------------------------------------------------------------- visit log */
  function startLog(id) {
    $("f-account").value = id;
    fillCorrections(id);
    showTab("log");
  }
  function fillCorrections(id) {
    var a = byId[id], c = state.corrections[id] || {};
    $("f-address").value = c.address !== undefined ? c.address : a.address;
    var loc = c.location || a.location || ["", ""];
    $("f-lon").value = loc[0]; $("f-lat").value = loc[1];
    $("f-contact-name").value = c.contact_name !== undefined ? c.contact_name : a.contact_name;
    $("f-contact-phone").value = c.contact_phone !== undefined ? c.contact_phone : a.contact_phone;
    $("f-contact-email").value = c.contact_email !== undefined ? c.contact_email : a.contact_email;
  }
  function corrections(id) {
    var base = D.base[id], out = {}, now = new Date().toISOString();
    var fields = { address: $("f-address").value.trim(), contact_name: $("f-contact-name").value.trim(),
      contact_phone: $("f-contact-phone").value.trim(), contact_email: $("f-contact-email").value.trim() };
    Object.keys(fields).forEach(function (f) { if (fields[f] !== base[f]) out[f] = fields[f]; });
    var lon = parseFloat($("f-lon").value), lat = parseFloat($("f-lat").value);
    if (isFinite(lon) && isFinite(lat) && (!base.location ||
        Math.abs(lon - base.location[0]) > 1e-6 || Math.abs(lat - base.location[1]) > 1e-6)) {
      out.location = [Math.round(lon * 1e7) / 1e7, Math.round(lat * 1e7) / 1e7];
    }
    return { values: out, at: now };
  }
  function submitVisit(ev) {
    ev.preventDefault();
    var id = $("f-account").value;
    if (!byId[id]) return;
    var fix = corrections(id);
    state.visits.push({ visit_id: uuid(), account_id: id, date: $("f-date").value,
      minutes: Number($("f-minutes").value) || 0, outcome: $("f-outcome").value,
      notes: $("f-notes").value.trim(), next_step: $("f-next").value.trim(), logged: fix.at });
    state.corrections[id] = fix.values;
    if (!Object.keys(fix.values).length) delete state.corrections[id];
    save();
    $("f-notes").value = ""; $("f-next").value = "";
    $("form-message").textContent = "Saved on this device: " + byId[id].name + " (" + $("f-date").value + ").";
    renderLogged();
  }
  function renderLogged() {
    var list = $("logged");
    list.replaceChildren();
    state.visits.slice().reverse().forEach(function (v) {
      var li = el("li");
      li.appendChild(el("div", "name", (byId[v.account_id] || {}).name || v.account_id));
      li.appendChild(el("div", "sub", [v.date, v.outcome, v.notes, v.next_step ? "next: " + v.next_step : ""].filter(Boolean).join(" · ")));
      list.appendChild(li);
    });
    $("log-count").textContent = String(state.visits.length);
  }
  function useHere() {
    if (!navigator.geolocation) { $("form-message").textContent = "This device gives no position."; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      $("f-lon").value = p.coords.longitude.toFixed(6); $("f-lat").value = p.coords.latitude.toFixed(6);
    }, function () { $("form-message").textContent = "Position not available."; });
  }

  /* ---------------------------------------------------------------- report */
  function reportCorrections() {
    var out = [];
    Object.keys(state.corrections).forEach(function (id) {
      var c = state.corrections[id];
      Object.keys(c).forEach(function (f) { out.push({ account_id: id, field: f, value: c[f] }); });
    });
    return out;
  }
  function buildReport() {
    var body = JSON.stringify({ report_id: uuid(), created: new Date().toISOString(), rep_id: PKG.rep_id,
      package: PKG, package_signature: D.package_signature, base: D.base, visits: state.visits,
      corrections: reportCorrections() });
    return JSON.stringify({ format: "territory-desktop-field-report", format_version: 1, body: body,
      sha256: sha256(body) });
  }
  function exportReport() {
    var text = buildReport();
    var url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
    var a = el("a"); a.href = url;
    a.download = "report-" + PKG.rep_id + "-" + today() + ".json";
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    window.lastReport = text;
  }
  window.fieldBuildReport = buildReport;

  /* ---------------------------------------------------------------- start */
  function start() {
    $("rep-name").textContent = D.rep.name || D.rep.rep_id;
    $("territory-name").textContent = D.territory.names.join(", ");
    $("exported").textContent = "Exported " + PKG.exported.replace("T", " ").replace("Z", " UTC");
    var segs = {};
    D.accounts.forEach(function (a) { if (a.segment) segs[a.segment] = true; });
    Object.keys(segs).sort().forEach(function (s) { var o = el("option", "", s); o.value = s; $("segment").appendChild(o); });
    D.accounts.slice().sort(function (x, y) { return x.name.localeCompare(y.name); }).forEach(function (a) {
      var o = el("option", "", a.name); o.value = a.id; $("f-account").appendChild(o);
    });
    var ds = days(), t = today();
    ds.forEach(function (d) { var o = el("option", "", d); o.value = d; $("day").appendChild(o); });
    $("day").value = ds.indexOf(t) >= 0 ? t : (ds[0] || "");
    $("f-date").value = t;
    document.querySelectorAll(".tabs button").forEach(function (b) { b.addEventListener("click", function () { showTab(b.dataset.tab); }); });
    ["search", "segment", "due"].forEach(function (id) { $(id).addEventListener("input", renderAccounts); });
    $("day").addEventListener("change", renderRoute); $("week-view").addEventListener("change", renderRoute);
    $("f-account").addEventListener("change", function () { fillCorrections($("f-account").value); });
    $("visit-form").addEventListener("submit", submitVisit);
    $("f-here").addEventListener("click", useHere);
    $("export-report").addEventListener("click", exportReport);
    drawMap(); renderAccounts(); renderRoute(); renderLogged();
    if (D.accounts.length) fillCorrections($("f-account").value);
    showTab(tablet() ? "accounts" : "map");
  }
  start();
})();
