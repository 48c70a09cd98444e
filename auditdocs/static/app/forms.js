// Forms (issue 10 item 8): the error summary of a refused form takes the focus, so it is read first, and each of its
// links moves the focus to the field it names (a plain #fragment would only scroll). No inline script (strict CSP).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector(".error-summary");
  if (!summary) return;
  summary.focus();
  summary.querySelectorAll("a[href^='#']").forEach((link) => {
    link.addEventListener("click", (ev) => {
      const target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
      if (!target) return;
      ev.preventDefault();
      const label = document.querySelector(`label[for="${CSS.escape(target.id)}"]`) || target;
      label.scrollIntoView({ block: "center" });
      const focusable = target.matches("input, select, textarea, button, [tabindex]")
        ? target : target.querySelector("input:not([type=hidden]), select, textarea");
      (focusable || target).focus({ preventScroll: true });
    });
  });
});
