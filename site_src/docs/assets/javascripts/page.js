// Page behaviour beyond the charts: printing shows every table, and a site opened from disk (file://) follows its
// own links. (Loaded by site_src/overrides/main.html on every page.)
(function () {
  "use strict";
  if (window.__gpubenchPage) return;
  window.__gpubenchPage = true;

  // Printing expands the folded tables (details) and folds them back afterwards.
  window.addEventListener("beforeprint", () => {
    for (const d of document.querySelectorAll("details:not([open])")) {
      d.setAttribute("open", "");
      d.setAttribute("data-gb-print-opened", "");
    }
  });
  window.addEventListener("afterprint", () => {
    for (const d of document.querySelectorAll("details[data-gb-print-opened]")) {
      d.removeAttribute("open");
      d.removeAttribute("data-gb-print-opened");
    }
  });

  // From disk, a link to a folder ("reports/x/") shows a file listing: point such links at the folder's
  // index.html. Over http(s) nothing changes.
  function toIndex(a) {
    const url = new URL(a.getAttribute("href"), location.href);
    if (url.protocol === "file:" && url.pathname.endsWith("/")) {
      url.pathname += "index.html";
      a.setAttribute("href", url.href);
    }
  }
  if (location.protocol !== "file:") return;
  // (No instant navigation from disk, and Material's document$ does not emit there: each page is a fresh load.)
  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("a[href]").forEach(toIndex));
  // Links made later (search results) are pointed there when followed.
  document.addEventListener("click", (e) => {
    const a = e.target instanceof Element && e.target.closest("a[href]");
    if (a) toIndex(a);
  }, true);
})();
