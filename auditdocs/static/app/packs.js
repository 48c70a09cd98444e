/* The pack page keeps itself up to date: it polls the job's status (JSON read from the job row) and moves the
   progress bar, says where the build is (the text is a polite live region, updated only when the stage or the
   status changes, so a screen reader is not flooded), then shows the download link or the reason it failed.
   Without this script the page still works: the Refresh link reloads the same state from the row. */
(function () {
  "use strict";
  const box = document.querySelector("[data-pack-job]");
  if (!box) {
    return;
  }
  const url = box.getAttribute("data-status-url");
  const bar = box.querySelector("[data-pack-bar]");
  const progress = box.querySelector("progress");
  const percent = box.querySelector("[data-pack-percent]");
  const text = box.querySelector("[data-pack-text]");
  const download = box.querySelector("[data-pack-download]");
  const link = box.querySelector("[data-pack-download-link]");
  const fileName = box.querySelector("[data-pack-file-name]");
  const refresh = box.querySelector("[data-pack-refresh]");
  const FAST = 1000;
  const SLOW = 5000;
  let said = text ? text.textContent.trim() : "";
  let lastKey = "";

  function show(data) {
    if (progress) {
      progress.value = data.percent;
    }
    if (percent) {
      percent.textContent = data.percent + " %";
    }
    const key = data.status + "/" + data.stage;
    if (text && key !== lastKey && data.text !== said) {
      text.textContent = data.text;
      said = data.text;
    }
    lastKey = key;
    box.setAttribute("data-state", data.status);
    const finished = data.status === "done" || data.status === "failed";
    if (bar) {
      bar.hidden = data.status === "failed";
    }
    if (refresh) {
      refresh.hidden = finished;
    }
    if (text) {
      text.classList.toggle("text-danger", data.status === "failed");
    }
    if (data.status === "done" && download && link) {
      link.setAttribute("href", data.download_url);
      if (fileName) {
        fileName.textContent = data.file_name || "";
      }
      download.hidden = false;
    }
    return finished;
  }

  function poll(wait) {
    window.setTimeout(function () {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin", cache: "no-store"})
        .then(function (resp) {
          if (!resp.ok) {
            throw new Error(String(resp.status));
          }
          return resp.json();
        })
        .then(function (data) {
          if (!show(data)) {
            poll(FAST);
          }
        })
        .catch(function () {
          poll(SLOW); /* the server is restarting or busy: try again a little later; the Refresh link stays */
        });
    }, wait);
  }

  const state = box.getAttribute("data-state");
  if (state !== "done" && state !== "failed") {
    poll(FAST);
  }
}());
