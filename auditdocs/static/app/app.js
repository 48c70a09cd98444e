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

// Uploads with a progress bar: forms marked data-upload-progress are sent with XMLHttpRequest;
// the server answers JSON ({ok, redirect} or {ok: false, error}) to such requests.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-upload-progress]").forEach((form) => {
    const box = form.querySelector("[data-progress]");
    const bar = form.querySelector("[data-progress-bar]");
    const text = form.querySelector("[data-progress-text]");
    const errorBox = form.querySelector("[data-upload-error]");
    const button = form.querySelector("button[type=submit]");
    form.addEventListener("submit", (ev) => {
      if (!window.FormData || !window.XMLHttpRequest) return; // plain form post still works
      ev.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      box.classList.remove("d-none");
      errorBox.classList.add("d-none");
      button.disabled = true;
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((e.loaded / e.total) * 100);
        bar.style.width = pct + "%";
        bar.textContent = pct + "%";
        bar.parentElement.setAttribute("aria-valuenow", String(pct));
        if (pct >= 100) text.textContent = text.dataset.checking || text.textContent;
      });
      const fail = (message) => {
        errorBox.textContent = message;
        errorBox.classList.remove("d-none");
        box.classList.add("d-none");
        button.disabled = false;
      };
      xhr.addEventListener("load", () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (data && data.ok && data.redirect) { window.location.assign(data.redirect); return; }
        fail((data && (data.error || data.message)) || (xhr.status + " " + xhr.statusText));
      });
      xhr.addEventListener("error", () => fail(errorBox.dataset.network || "Network error"));
      xhr.send(new FormData(form));
    });
  });
});

// A link such as /clauses/#iso37001_2016 opens that tab.
document.addEventListener("DOMContentLoaded", () => {
  const hash = window.location.hash;
  if (!hash || !window.bootstrap) return;
  const trigger = document.querySelector(`[data-bs-toggle="tab"][data-bs-target="${CSS.escape(hash)}"]`);
  if (trigger) window.bootstrap.Tab.getOrCreateInstance(trigger).show();
});
