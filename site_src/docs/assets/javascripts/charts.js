// Renders the charts of a page from their data-spec attributes with vega-embed (shipped in
// assets/vendor/vega-bundle.js: no network). Material's instant navigation swaps page content without reloading
// scripts, so rendering hangs off document$ (every page view) and re-runs when the light/dark palette changes.

const SCHEME = "data-md-color-scheme";
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const live = new Set(); // elements holding a vega view, finalized when they leave the page or re-render
let generation = 0;

function isDark() {
  return document.body.getAttribute(SCHEME) === "slate";
}

function theme(dark) {
  const fg = dark ? "#e3e5ea" : "#23262e";
  const muted = dark ? "#a6abb8" : "#5b6070";
  const line = dark ? "#3b4050" : "#e3e6ed";
  return {
    background: null,
    font: FONT,
    view: { stroke: null },
    axis: {
      labelColor: muted, titleColor: fg, gridColor: line, domainColor: line, tickColor: line,
      labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, titlePadding: 8,
    },
    legend: { labelColor: fg, titleColor: fg, labelFontSize: 12, titleFontSize: 12, symbolSize: 90, labelLimit: 260 },
    title: { color: fg, fontWeight: 600 },
    text: { color: fg },
    point: { stroke: null },
  };
}

// Values of the parameters bound to inputs (latency limits, prices): kept when a chart re-renders for the other
// palette, so switching light/dark does not undo what the reader set.
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

function finalize(el) {
  if (el._gbEmbed) {
    el._gbEmbed.finalize();
    el._gbEmbed = null;
  }
  live.delete(el);
}

async function renderOne(el, dark) {
  const spec = JSON.parse(el.getAttribute("data-spec"));
  const kept = boundValues(el, spec);
  for (const p of spec.params || []) {
    if (p.name in kept) p.value = kept[p.name];
  }
  finalize(el);
  el.removeAttribute("data-rendered");
  spec.config = theme(dark);
  const result = await window.vegaEmbed(el, spec, {
    renderer: "svg",
    actions: false,
    tooltip: { theme: dark ? "dark" : "light" },
    downloadFileName: el.id || "chart",
  });
  el._gbEmbed = result;
  live.add(el);
  el.setAttribute("data-rendered", dark ? "slate" : "default");
}

async function renderAll() {
  const mine = ++generation;
  for (const el of [...live]) {
    if (!el.isConnected) finalize(el); // left with the previous page
  }
  const dark = isDark();
  for (const el of document.querySelectorAll(".gb-chart[data-spec]")) {
    if (mine !== generation) return; // a newer page view or palette switch took over
    try {
      await renderOne(el, dark);
    } catch (err) {
      el.setAttribute("data-rendered", "error");
      console.error("gpubench: chart " + el.id + " failed to render:", err);
    }
  }
}

if (!window.__gpubenchCharts) {
  window.__gpubenchCharts = true;
  window.document$.subscribe(() => renderAll());
  new MutationObserver((changes) => {
    if (changes.some((c) => c.attributeName === SCHEME)) renderAll();
  }).observe(document.body, { attributes: true, attributeFilter: [SCHEME] });
}
