/* The packs pages keep themselves up to date by polling each unfinished job's status (JSON read from the job row).
   On a pack's page the progress bar moves and the state is said in a polite live region (updated only when the
   stage or the status changes, so a screen reader is not flooded), then the download link or the reason it failed
   appears; in the list of past packs each unfinished row's bar moves and turns into its download link. Without
   this script both pages still work: a reload (the Refresh link) shows the same state from the row. */
(function () {
  "use strict";
  const FAST = 1000;
  const SLOW = 5000;

  function follow(url, show) {
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
            poll(SLOW); /* the server is restarting or busy: try again a little later; a reload still works */
          });
      }, wait);
    }
    poll(FAST);
  }

  function finished(data) {
    return data.status === "done" || data.status === "failed";
  }

  function followPage(box) {
    const bar = box.querySelector("[data-pack-bar]");
    const progress = box.querySelector("progress");
    const percent = box.querySelector("[data-pack-percent]");
    const text = box.querySelector("[data-pack-text]");
    const download = box.querySelector("[data-pack-download]");
    const link = box.querySelector("[data-pack-download-link]");
    const fileName = box.querySelector("[data-pack-file-name]");
    const refresh = box.querySelector("[data-pack-refresh]");
    let said = text ? text.textContent.trim() : "";
    let lastKey = "";

    follow(box.getAttribute("data-status-url"), function (data) {
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
      if (bar) {
        bar.hidden = data.status === "failed";
      }
      if (refresh) {
        refresh.hidden = finished(data);
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
      return finished(data);
    });
  }

  function followRow(cell) {
    const progress = cell.querySelector("progress");
    const label = cell.querySelector("[data-pack-row-label]");
    const link = cell.querySelector("[data-pack-row-download]");
    follow(cell.getAttribute("data-status-url"), function (data) {
      if (progress) {
        progress.value = data.percent;
        progress.hidden = finished(data);
      }
      if (label && label.textContent !== data.status_label) {
        label.textContent = data.status_label;
        label.classList.toggle("badge", data.status === "failed");
        label.classList.toggle("text-bg-danger", data.status === "failed");
      }
      if (data.status === "done" && link) {
        link.setAttribute("href", data.download_url);
        link.hidden = false;
        if (label) {
          label.hidden = true;
        }
      }
      cell.setAttribute("data-state", data.status);
      return finished(data);
    });
  }

  const box = document.querySelector("[data-pack-job]");
  if (box) {
    const state = box.getAttribute("data-state");
    if (state !== "done" && state !== "failed") {
      followPage(box);
    }
  }
  document.querySelectorAll("[data-pack-row]").forEach(followRow);
}());
