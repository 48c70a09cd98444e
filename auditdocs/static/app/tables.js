// Tables wider than the screen scroll inside their .table-responsive wrapper (issue 10 item 8): such a wrapper
// becomes a labelled, keyboard-focusable region so it can be scrolled with the arrow keys (WCAG 2.1.1); one that
// fits gets no extra tab stop. No inline script (strict CSP).
"use strict";
(() => {
  const nameOf = (wrap) => {
    const table = wrap.querySelector("table");
    const caption = table && table.querySelector("caption");
    if (caption) return caption.textContent.trim();
    let el = wrap;
    while (el) {  // the nearest heading before the table, else the page's title
      let prev = el.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
        const inner = prev.querySelectorAll ? prev.querySelectorAll("h1, h2, h3, h4, h5, h6") : [];
        if (inner.length) return inner[inner.length - 1].textContent.trim();
        prev = prev.previousElementSibling;
      }
      el = el.parentElement;
    }
    return document.title;
  };
  const update = () => {
    document.querySelectorAll(".table-responsive").forEach((wrap) => {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        if (!wrap.hasAttribute("aria-label")) wrap.setAttribute("aria-label", nameOf(wrap));
      } else if (wrap.getAttribute("tabindex") === "0") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  };
  document.addEventListener("DOMContentLoaded", update);
  let pending = 0;
  window.addEventListener("resize", () => {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(update);
  });
})();
