// auditdocs front-end behaviour: no inline scripts (strict CSP), progressive enhancement only.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Buttons that need a confirmation carry data-confirm="question".
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (ev) => {
      if (!window.confirm(form.dataset.confirm)) ev.preventDefault();
    });
  });
});
