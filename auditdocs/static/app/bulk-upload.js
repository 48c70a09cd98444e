// Bulk upload: each chosen or dropped file is sent on its own (one request, one JSON answer) with a progress bar
// and a result row; a refusal never stops the others. Without this script the form posts every file at once.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form[data-bulk-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const d = form.dataset;
  const input = form.querySelector("input[type=file]");
  const zone = form.querySelector("[data-dropzone]");
  const button = form.querySelector("button[type=submit]");
  const chosen = form.querySelector("[data-chosen-count]");
  const box = document.querySelector("[data-results-box]");
  const tbody = document.querySelector("[data-results]");
  const note = document.querySelector("[data-progress-note]");
  const token = form.querySelector("input[name=csrf_token]").value;
  const badges = {created: "text-bg-success", version: "text-bg-primary", duplicate: "text-bg-secondary",
                  refused: "text-bg-danger"};
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? String(values[k]) : m));
  form.querySelectorAll("[data-js-only]").forEach((el) => el.classList.remove("d-none"));
  form.querySelectorAll("[data-no-js]").forEach((el) => el.classList.add("d-none"));

  const showChosen = () => {
    chosen.textContent = input.files.length ? fill(d.chosen, {num: input.files.length}) : "";
  };
  input.addEventListener("change", showChosen);
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("border-primary", "bg-light");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("border-primary", "bg-light"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("border-primary", "bg-light");
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      showChosen();
    }
  });

  // One result row per file: name, a progress bar that becomes the outcome, the document, the detail.
  const row = (file) => {
    const tr = document.createElement("tr");
    const name = document.createElement("td");
    name.className = "text-break";
    name.textContent = file.name;
    const state = document.createElement("td");
    const bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", fill(d.progressLabel, {name: file.name}));
    const stage = document.createElement("div");
    stage.className = "small text-muted";
    stage.textContent = d.waiting;
    state.append(bar, stage);
    const doc = document.createElement("td");
    doc.className = "text-break";
    doc.textContent = "—";
    const detail = document.createElement("td");
    detail.className = "small";
    tr.append(name, state, doc, detail);
    tbody.append(tr);
    return {tr, state, bar, stage, doc, detail};
  };

  const counts = {created: 0, version: 0, duplicate: 0, refused: 0};
  const showCounts = () => Object.keys(counts).forEach((k) => {
    document.querySelector(`[data-count="${k}"]`).textContent = String(counts[k]);
  });

  const settle = (r, data) => {
    const outcome = data.outcome in counts ? data.outcome : "refused";
    counts[outcome] += 1;
    r.tr.dataset.outcome = outcome;
    const badge = document.createElement("span");
    badge.className = "badge " + badges[outcome];
    badge.textContent = data.outcome_label || d.refused;
    r.state.replaceChildren(badge);
    if (data.document_url) {
      const link = document.createElement("a");
      link.href = data.document_url;
      link.textContent = data.code;
      r.doc.replaceChildren(link);
    } else if (data.code) {
      r.doc.textContent = data.code;
    }
    r.detail.textContent = data.message || data.error || "";
    showCounts();
  };

  const send = (file, r) => new Promise((resolve) => {
    if (file.size > Number(d.maxBytes)) {
      settle(r, {outcome: "refused", message: d.tooLarge});
      resolve();
      return;
    }
    const body = new FormData();
    body.append("kind", form.querySelector("[name=kind]").value);
    body.append("language", form.querySelector("[name=language]").value);
    body.append("files", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", d.fileUrl);
    xhr.setRequestHeader("X-CSRFToken", token);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    r.stage.textContent = d.uploading;
    xhr.upload.addEventListener("progress", (e) => {
      if (!e.lengthComputable) return;
      r.bar.value = Math.round((e.loaded / e.total) * 100);
      if (e.loaded >= e.total) r.stage.textContent = d.checking;
    });
    xhr.addEventListener("load", () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      const signedOut = xhr.responseURL && new URL(xhr.responseURL).pathname === d.loginPath;
      const fallback = signedOut ? d.session : d.network;
      settle(r, data && (data.outcome || data.error) ? data : {outcome: "refused", message: fallback});
      resolve();
    });
    xhr.addEventListener("error", () => {
      settle(r, {outcome: "refused", message: d.network});
      resolve();
    });
    xhr.send(body);
  });

  form.addEventListener("submit", async (ev) => {
    const files = Array.from(input.files);
    if (!files.length) return; // the server says to choose a file
    ev.preventDefault();
    button.disabled = true;
    box.hidden = false;
    tbody.replaceChildren();
    Object.keys(counts).forEach((k) => { counts[k] = 0; });
    showCounts();
    // Natural order, so "v9" goes before "v10" and versions arrive oldest first, as in the import.
    files.sort((a, b) => a.name.localeCompare(b.name, undefined, {numeric: true, sensitivity: "base"}));
    const rows = files.map(row);
    for (let i = 0; i < files.length; i += 1) {
      note.textContent = fill(d.working, {done: i, total: files.length});
      await send(files[i], rows[i]);
    }
    note.textContent = d.done;
    input.value = "";
    showChosen();
    button.disabled = false;
  });
});
