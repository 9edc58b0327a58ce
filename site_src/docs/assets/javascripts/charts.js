//# allFunctionsCalledOnLoad
// (V8's compile hint: every function compiled in the background while the file loads; see site_src/bundle.py.)
// Draws the charts of a page with vega-embed (assets/vendor/vega-bundle.js, shipped with the site: no network).
//
// A chart's data-spec holds only what is its own; the page's templates and datasets sit once in
// .gb-page-data (see site_src/chart_data.py) and are put together here. Charts on screen are drawn first, the others
// one by one in the background (and at once when they scroll into view), each at the width its container has, so
// a long report shows its first screen quickly and never freezes the page. Material's instant navigation swaps the
// page without reloading scripts: drawing follows document$ (every page view) and re-runs when the light/dark
// palette changes or the window's width does.
(function () {
  "use strict";
  if (window.__gpubenchCharts) return;
  window.__gpubenchCharts = true;

  const SCHEME = "data-md-color-scheme";
  const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
  const NARROW = 560; // px: one legend column and wrapped titles below this width
  const NEAR = 400; // px beyond the screen that count as on screen
  const live = new Set(); // elements holding a vega view
  let generation = 0;
  let queue = { todo: [], urgent: new Set() };
  let observer = null;
  let page = null; // the current page's templates and datasets

  function isDark() {
    return document.body.getAttribute(SCHEME) === "slate";
  }

  function theme(dark, width) {
    const fg = dark ? "#e3e5ea" : "#23262e";
    const muted = dark ? "#a6abb8" : "#5b6070";
    const line = dark ? "#3b4050" : "#e3e6ed";
    const narrow = width < NARROW;
    return {
      background: null,
      font: FONT,
      view: { stroke: null },
      axis: {
        labelColor: muted, titleColor: fg, gridColor: line, domainColor: line, tickColor: line,
        labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, titlePadding: 8,
        labelLimit: narrow ? Math.round(width * 0.4) : 240,
      },
      legend: {
        labelColor: fg, titleColor: fg, labelFontSize: 12, titleFontSize: 12, symbolSize: 90,
        columns: narrow ? 1 : width < 900 ? 2 : 3, labelLimit: Math.max(120, Math.min(320, width - 70)),
      },
      title: { color: fg, fontWeight: 600 },
      text: { color: fg },
      point: { stroke: null },
    };
  }

  // ------------------------------------------------------------ specs

  function readPage() {
    const el = document.querySelector(".gb-page-data");
    return {
      el,
      templates: el ? JSON.parse(el.getAttribute("data-templates") || "{}") : {},
      datasets: el ? JSON.parse(el.getAttribute("data-datasets") || "{}") : {},
    };
  }

  function fill(obj, subs) {
    if (Array.isArray(obj)) {
      if (obj.length === 1 && typeof obj[0] === "string" && obj[0] in subs) return subs[obj[0]];
      return obj.map((v) => fill(v, subs));
    }
    if (obj && typeof obj === "object") {
      const out = {};
      for (const k of Object.keys(obj)) out[k] = fill(obj[k], subs);
      return out;
    }
    return typeof obj === "string" && obj in subs ? subs[obj] : obj;
  }

  // The full spec of a chart: its template with the placeholders filled, its own keys on top, and its datasets
  // (copied per chart: vega marks the rows it ingests).
  function resolve(own) {
    const spec = own.gbTemplate ? fill(page.templates[own.gbTemplate], own.gbSubs || {}) : {};
    for (const k of Object.keys(own)) if (!k.startsWith("gb")) spec[k] = own[k];
    spec.datasets = {};
    for (const [name, id] of Object.entries(own.gbData || {})) {
      spec.datasets[name] = (page.datasets[id] || []).map((row) => Object.assign({}, row));
    }
    return spec;
  }

  // Titles longer than the chart is wide become several lines (Vega-Lite titles may be arrays of lines).
  function wrapTitles(obj, chars) {
    if (Array.isArray(obj)) return obj.forEach((v) => wrapTitles(v, chars));
    if (!obj || typeof obj !== "object") return;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (k === "title" && typeof v === "string" && v.length > chars) obj[k] = lines(v, chars);
      else if (k === "title" && v && typeof v.text === "string" && v.text.length > chars) v.text = lines(v.text, chars);
      else wrapTitles(v, chars);
    }
  }

  // A phone's width: titles wrap, a second legend (validity) goes above the chart instead of beside the first,
  // and layers marked wide-only (text beside the plot; the page's table holds the same) are left out.
  function narrowSpec(spec, width, labelLimit) {
    wrapTitles(spec, Math.floor((width * 0.55) / 7)); // the plot is narrower than the chart: labels beside it
    const parts = [];
    const collect = (part) => {
      if (!part || typeof part !== "object") return;
      if (Array.isArray(part.layer)) part.layer = part.layer.filter((l) => l.name !== "gb_wide_only");
      parts.push(part);
      (part.layer || []).forEach(collect);
    };
    collect(spec);
    const colourLegend = parts.some((p) => p.encoding && p.encoding.color && p.encoding.color.legend !== null);
    for (const part of parts) {
      if (part.name === "gb_headline" && part.encoding) part.encoding.x = { value: -labelLimit };
      for (const [channel, def] of Object.entries(part.encoding || {})) {
        if (colourLegend && channel !== "color" && def && def.legend && def.legend.orient === "bottom") {
          def.legend.orient = "top";
        }
      }
    }
  }

  function lines(text, chars) {
    const out = [""];
    for (const word of text.split(" ")) {
      const last = out[out.length - 1];
      if (last && (last + " " + word).length > chars) out.push(word);
      else out[out.length - 1] = last ? last + " " + word : word;
    }
    return out;
  }

  // Values of the parameters bound to inputs (latency limits, prices): kept when a chart is drawn again (palette,
  // width), so that what the reader set stays set.
  function boundValues(el, spec) {
    const view = el._gbEmbed && el._gbEmbed.view;
    const out = {};
    if (!view) return out;
    for (const p of spec.params || []) {
      if (p.bind && !p.select) {
        try {
          out[p.name] = view.signal(p.name);
        } catch (err) {
          // a view that never ran has no signal yet: keep the spec's value
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------ compiled specs, kept between visits

  // Compiling Vega-Lite to Vega is a third of a chart's drawing time. The Vega spec a chart compiled to (without its
  // data) is kept in localStorage, keyed by everything it was compiled from (the spec with theme and width, its
  // datasets' names, the bundle's version), so a page seen before draws without compiling. A full or unavailable
  // storage only costs the compile.
  const STORE = "gpubench-vg:";

  function digest(text) { // two 32-bit string hashes (FNV-1a, djb2) and the length: 64+ bits, no collision in practice
    let a = 0x811c9dc5;
    let b = 5381;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = (Math.imul(b, 33) + c) | 0;
    }
    return (a >>> 0).toString(36) + (b >>> 0).toString(36) + text.length.toString(36);
  }

  function compiledKey(spec) {
    const names = Object.keys(spec.datasets || {});
    return STORE + (window.__gpubenchBundle || "") + ":" + digest(JSON.stringify({ ...spec, datasets: names }));
  }

  function readCompiled(key, datasets) {
    let vg = null;
    try {
      const text = window.localStorage.getItem(key);
      vg = text && JSON.parse(text);
    } catch (err) {
      return null;
    }
    if (!vg || !Array.isArray(vg.data)) return null;
    for (const d of vg.data) if (d.name in (datasets || {})) d.values = datasets[d.name];
    return vg;
  }

  function writeCompiled(key, vg, datasets) {
    if (!vg || !Array.isArray(vg.data)) return;
    const data = vg.data.map((d) => (d.name in (datasets || {}) ? { ...d, values: undefined } : d));
    const text = JSON.stringify({ ...vg, data });
    try {
      window.localStorage.setItem(key, text);
    } catch (err) { // full: make room by dropping the compiled specs kept so far, then try once more
      try {
        for (const k of Object.keys(window.localStorage)) if (k.startsWith(STORE)) window.localStorage.removeItem(k);
        window.localStorage.setItem(key, text);
      } catch (again) {
        // no storage: charts compile on every visit
      }
    }
  }

  // ------------------------------------------------------------ drawing

  function finalize(el) {
    if (el._gbEmbed) {
      el._gbEmbed.finalize();
      el._gbEmbed = null;
    }
    live.delete(el);
  }

  async function renderOne(el, dark) {
    const token = {};
    el._gbToken = token;
    const own = JSON.parse(el.getAttribute("data-spec"));
    const spec = resolve(own);
    const csvSpec = { usermeta: spec.usermeta, transform: spec.transform }; // before vega-embed sees the spec
    const kept = boundValues(el, spec);
    for (const p of spec.params || []) if (p.name in kept) p.value = kept[p.name];
    const width = el._gbWidth || el.clientWidth || 600;
    if (spec.width === "container") {
      spec.width = width; // measured once for all charts: no layout per chart
      spec.autosize = { type: "fit-x", contains: "padding" };
    }
    spec.config = theme(dark, width);
    if (width < NARROW) narrowSpec(spec, width, spec.config.axis.labelLimit);
    const name = (el.id || "chart") + "-" + ((own.usermeta && own.usermeta.gpubench) || "data");
    finalize(el);
    const key = compiledKey(spec);
    const compiled = readCompiled(key, spec.datasets);
    const result = await window.vegaEmbed(el, compiled || spec, {
      mode: compiled ? "vega" : "vega-lite",
      hover: false, // as for Vega-Lite (vega-embed turns hover on for Vega specs)
      renderer: "svg",
      actions: { export: true, source: false, compiled: false, editor: false },
      tooltip: { theme: dark ? "dark" : "light" },
      downloadFileName: name,
    });
    if (!compiled) writeCompiled(key, result.vgSpec, spec.datasets);
    if (el._gbToken !== token) return result.finalize(); // drawn again meanwhile: that drawing stays
    el._gbEmbed = result;
    el._gbDrawnWidth = width;
    el.style.minHeight = ""; // the room reserved before drawing (see site_src/chart_data.py): the chart has its own
    live.add(el);
    addCsvAction(el, own, csvSpec, name);
    el.setAttribute("data-rendered", dark ? "slate" : "default");
  }

  // ------------------------------------------------------------ data as CSV

  function csvCell(v) {
    const s = v === null || v === undefined ? "" : String(v);
    return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }

  // The chart's data as CSV: the rows of its dataset that its field filters keep (usermeta.csv.filter and the
  // spec's {field, equal|oneOf} filters), in usermeta.csv.columns (headed usermeta.csv.names), else every column.
  function chartCsv(own, spec) {
    const meta = (spec.usermeta && spec.usermeta.csv) || {};
    const id = Object.values(own.gbData || {})[0];
    const conditions = Object.entries(meta.filter || {});
    for (const t of spec.transform || []) {
      if (t.filter && t.filter.field) conditions.push([t.filter.field, t.filter.oneOf || t.filter.equal]);
    }
    const rows = (page.datasets[id] || []).filter((r) =>
      conditions.every(([k, v]) => (Array.isArray(v) ? v.includes(r[k]) : r[k] === v)));
    const columns = meta.columns || Object.keys(rows[0] || {});
    const names = meta.names || columns;
    const body = rows.filter((r) => columns.some((c, i) => i > 0 && r[c] !== undefined && r[c] !== null));
    return [names.join(","), ...body.map((r) => columns.map((c) => csvCell(r[c])).join(","))].join("\n") + "\n";
  }

  function addCsvAction(el, own, spec, name) {
    const menu = el.querySelector(".vega-actions");
    if (!menu) return;
    const a = document.createElement("a");
    a.href = "#";
    a.textContent = "Save data as CSV";
    a.className = "gb-csv";
    a.download = name + ".csv";
    a.addEventListener("click", () => {
      a.href = URL.createObjectURL(new Blob([chartCsv(own, spec)], { type: "text/csv" }));
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    });
    menu.appendChild(a);
  }

  // ------------------------------------------------------------ order: on screen first, then the rest

  function yieldToBrowser() {
    if (window.scheduler && window.scheduler.yield) return window.scheduler.yield();
    return new Promise((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve();
      ch.port2.postMessage(null);
    });
  }

  // Draws the queue: charts on (or near) the screen first, then the others in document order. The browser gets
  // the main thread back after the charts on screen (so they show at once) and then every SLICE ms, not after
  // each chart: each yield lets it lay out and paint the whole page, which costs more than a chart.
  const SLICE = 50;
  async function pump(mine) {
    let slice = performance.now();
    while (mine === generation && queue.todo.length) {
      const wasUrgent = queue.urgent.size > 0;
      const el = queue.todo.find((e) => queue.urgent.has(e)) || queue.todo[0];
      queue.todo.splice(queue.todo.indexOf(el), 1);
      queue.urgent.delete(el);
      if (!el.isConnected) continue;
      try {
        await renderOne(el, isDark());
      } catch (err) {
        el.setAttribute("data-rendered", "error");
        console.error("gpubench: chart " + el.id + " failed to render:", err);
      }
      if ((wasUrgent && queue.urgent.size === 0) || performance.now() - slice > SLICE) {
        // On a first load this script runs before the theme's (see the end of this file): once the charts on screen
        // are drawn, the theme sets itself up (search, navigation) before the charts off screen are drawn.
        if (queue.urgent.size === 0 && document.readyState === "loading") await parsed;
        await yieldToBrowser();
        slice = performance.now();
      }
    }
  }
  const parsed = new Promise((resolve) => document.addEventListener("DOMContentLoaded", resolve, { once: true }));

  // Draw (again) every chart of the page that is not drawn in the current palette at its current width.
  function drawAll() {
    const mine = ++generation;
    for (const el of [...live]) if (!el.isConnected) finalize(el);
    const current = readPage();
    if (!page || page.el !== current.el) page = current;
    const want = isDark() ? "slate" : "default";
    const charts = [...document.querySelectorAll(".gb-chart[data-spec]")];
    const h = window.innerHeight;
    const todo = [];
    const urgent = new Set();
    // A link to a heading lands there: its screen comes first, even before the browser has scrolled to it.
    const target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
    const top = target && window.scrollY === 0 ? target.getBoundingClientRect().top : 0;
    for (const el of charts) { // one layout for all charts: their widths and which are on screen
      const r = el.getBoundingClientRect();
      el._gbWidth = Math.round(r.width);
      const stale = el.getAttribute("data-rendered") !== want || Math.abs((el._gbDrawnWidth || 0) - el._gbWidth) > 4;
      if (!stale) continue;
      todo.push(el);
      if (r.bottom > top - NEAR && r.top < top + h + NEAR) urgent.add(el);
    }
    queue = { todo, urgent };
    if (observer) observer.disconnect();
    observer = new IntersectionObserver((entries) => {
      for (const e of entries) if (e.isIntersecting && queue.todo.includes(e.target)) queue.urgent.add(e.target);
    }, { rootMargin: NEAR + "px 0px" });
    todo.forEach((el) => observer.observe(el));
    pump(mine);
  }

  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawAll, 250);
  });
  // This script runs before Material's (see site_src/overrides/main.html): it draws the page's charts at once, then
  // follows Material's page views (document$) once the theme is up: a view of the page already drawn (the first) is
  // left alone.
  // From disk (file://) there are no instant page views: each page is a fresh load.
  drawAll();
  document.addEventListener("DOMContentLoaded", () => {
    const newPage = () => document.querySelector(".gb-page-data") !== page.el;
    if (window.document$) window.document$.subscribe(() => newPage() && drawAll());
  });
  new MutationObserver((changes) => {
    if (changes.some((c) => c.attributeName === SCHEME)) drawAll();
  }).observe(document.body, { attributes: true, attributeFilter: [SCHEME] });
})();
