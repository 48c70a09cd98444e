// The clause picker (templates/_clause_picker.html): the server renders real checkboxes grouped by standard and
// clause, which post without this script. Here they gain a type-ahead search (number, or words in either language,
// accents ignored), chips of what is ticked (each removable by click or key), collapsible sub-clauses and arrow
// keys. Nothing here ever unticks a box the person did not ask to untick. No inline script or style (strict CSP).
"use strict";
(() => {
  // "Gestión" and "gestion" are the same word to a person typing quickly.
  const fold = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
    .replace(/\s+/g, " ").trim();
  // A clause number, whole or being typed: "8", "8.", "8.5", "a.13", "a.".
  const NUMBER = /^(?:[a-z]\.)?\d+(?:\.\d*)*$|^[a-z]\.$/;

  function setup(root) {
    if (root.dataset.cpReady) return;
    root.dataset.cpReady = "1";
    const tools = root.querySelector("[data-cp-tools]");
    const search = root.querySelector("[data-cp-search]");
    const status = root.querySelector("[data-cp-status]");
    const chips = root.querySelector("[data-cp-chips]");
    const count = root.querySelector("[data-cp-count]");
    const tree = root.querySelector("[data-cp-tree]");
    const text = (key) => root.dataset[key] || "";

    const items = [...tree.querySelectorAll("[data-cp-node]")].map((li) => {
      const row = li.querySelector(":scope > .cp-row");
      const label = row.querySelector("label");
      return {
        li, label,
        box: row.querySelector("input[type=checkbox]"),
        toggle: row.querySelector("[data-cp-toggle]"),
        sub: li.querySelector(":scope > ul"),
        number: fold(li.dataset.number),
        std: fold(li.dataset.std),
        hay: fold([li.dataset.std, li.dataset.number, label.textContent, li.dataset.alt].join(" ")),
        title: (label.querySelector(".cp-title") || label).textContent.trim(),
        open: false,
        parent: null,
      };
    });
    const byLi = new Map(items.map((it) => [it.li, it]));
    const byBox = new Map(items.map((it) => [it.box, it]));
    items.forEach((it) => { it.parent = byLi.get(it.li.parentElement.closest("[data-cp-node]")) || null; });
    const standards = [...tree.querySelectorAll("[data-cp-standard]")];

    // -- collapsing ----------------------------------------------------------------------------------------
    const show = (it, open) => {
      if (!it.sub) return;
      it.sub.hidden = !open;
      it.toggle.setAttribute("aria-expanded", String(open));
      it.box.setAttribute("aria-expanded", String(open)); // heard on the checkbox, where the arrow keys act
    };
    const setOpen = (it, open) => { it.open = open; show(it, open); };
    const shown = (it) => it.box.getClientRects().length > 0;
    const shownItems = () => items.filter(shown);

    // -- one tab stop for the whole tree; arrow keys move within it ----------------------------------------
    let current = null;
    const setCurrent = (it, focus) => {
      if (current) current.box.tabIndex = -1;
      current = it || null;
      if (!current) return;
      current.box.tabIndex = 0;
      if (focus) {
        current.box.focus();
        current.box.scrollIntoView({block: "nearest"});
      }
    };
    const ensureCurrent = (fallback) => {
      if (current && shown(current)) return;
      setCurrent((fallback && shown(fallback) ? fallback : null) || items.find((it) => it.box.checked && shown(it))
        || shownItems()[0], false);
    };

    // -- search ------------------------------------------------------------------------------------------------
    const say = (message) => { status.textContent = message; };
    const applySearch = () => {
      const q = fold(search.value);
      tree.classList.toggle("cp-searching", Boolean(q));
      if (!q) {
        // What was ticked or reached during the search stays in view once the whole tree is back.
        const reveal = items.filter((it) => it.box.checked || it === current);
        reveal.forEach((it) => { for (let p = it.parent; p; p = p.parent) p.open = true; });
        items.forEach((it) => {
          it.li.hidden = false;
          it.li.classList.remove("cp-match", "cp-context");
          show(it, it.open);
        });
        standards.forEach((fs) => { fs.hidden = false; });
        say("");
        ensureCurrent();
        return;
      }
      const tokens = q.split(" ");
      const matches = (it) => tokens.every((t) => (NUMBER.test(t)
        ? it.number.startsWith(t) || it.std.includes(t) : it.hay.includes(t)));
      const hits = new Set(items.filter(matches));
      const kept = new Set();
      hits.forEach((it) => { for (let p = it; p && !kept.has(p); p = p.parent) kept.add(p); });
      const opened = new Set([...kept].map((it) => it.parent).filter(Boolean));
      items.forEach((it) => {
        it.li.hidden = !kept.has(it);
        it.li.classList.toggle("cp-match", hits.has(it));
        it.li.classList.toggle("cp-context", kept.has(it) && !hits.has(it));
        show(it, opened.has(it));
      });
      standards.forEach((fs) => { fs.hidden = !fs.querySelector(":scope > ul > li:not([hidden])"); });
      const n = hits.size;
      say(n === 0 ? text("i18nNone") : text(n === 1 ? "i18nMatchesOne" : "i18nMatchesMany").replace("{n}", String(n)));
      const firstHit = items.find((it) => hits.has(it));
      ensureCurrent(firstHit);
    };
    search.addEventListener("input", applySearch);
    search.addEventListener("keydown", (ev) => {
      if (ev.key === "ArrowDown" || ev.key === "Enter") {
        ev.preventDefault(); // Enter in the search box must never submit the whole form
        const target = search.value.trim()
          ? items.find((it) => it.li.classList.contains("cp-match") && shown(it)) || shownItems()[0]
          : (current && shown(current) ? current : shownItems()[0]);
        if (target) setCurrent(target, true);
      } else if (ev.key === "Escape" && search.value) {
        ev.preventDefault();
        search.value = "";
        applySearch();
      }
    });

    // -- keys in the tree ------------------------------------------------------------------------------------
    tree.addEventListener("keydown", (ev) => {
      const it = byBox.get(ev.target);
      if (!it || ev.altKey || ev.ctrlKey || ev.metaKey) return;
      const list = shownItems();
      const i = list.indexOf(it);
      let next = null;
      switch (ev.key) {
        case "ArrowDown": next = list[i + 1]; break;
        case "ArrowUp":
          if (i <= 0) { ev.preventDefault(); search.focus(); return; }
          next = list[i - 1];
          break;
        case "Home": next = list[0]; break;
        case "End": next = list[list.length - 1]; break;
        case "ArrowRight":
          if (it.sub && it.sub.hidden) setOpen(it, true);
          else if (it.sub) next = list[i + 1];
          break;
        case "ArrowLeft":
          if (it.sub && !it.sub.hidden) setOpen(it, false);
          else next = it.parent;
          break;
        case "Enter": // ticks like Space instead of sending a form half filled in
          ev.preventDefault();
          it.box.click();
          return;
        default:
          return;
      }
      ev.preventDefault();
      if (next) setCurrent(next, true);
    });
    tree.addEventListener("focusin", (ev) => {
      const it = byBox.get(ev.target);
      if (it && it !== current) setCurrent(it, false);
    });
    items.forEach((it) => {
      if (!it.toggle) return;
      it.toggle.addEventListener("click", () => {
        setOpen(it, it.sub.hidden);
        ensureCurrent(it);
      });
    });

    // -- chips: what is ticked, each one a button that unticks it ---------------------------------------------
    const renderChips = () => {
      const ticked = items.filter((it) => it.box.checked);
      count.textContent = String(ticked.length);
      chips.replaceChildren(...ticked.map((it) => {
        const li = document.createElement("li");
        const btn = document.createElement("button");
        btn.type = "button";
        btn.className = "cp-chip";
        btn.dataset.value = it.box.value;
        btn.title = it.title;
        btn.setAttribute("aria-label", text("i18nRemove").replace("{ref}", `${it.box.dataset.ref} ${it.title}`));
        const ref = document.createElement("span");
        ref.textContent = it.box.dataset.ref;
        const x = document.createElement("span");
        x.className = "cp-chip-x";
        x.setAttribute("aria-hidden", "true");
        x.textContent = "×";
        btn.append(ref, x);
        li.append(btn);
        return li;
      }));
      if (!ticked.length) {
        const li = document.createElement("li");
        li.className = "cp-chip-empty";
        li.textContent = text("i18nEmpty");
        chips.append(li);
      }
    };
    const untick = (btn) => {
      const before = [...chips.querySelectorAll("button[data-value]")];
      const at = before.indexOf(btn);
      const it = items.find((x) => x.box.value === btn.dataset.value);
      if (!it) return;
      it.box.checked = false;
      it.box.dispatchEvent(new Event("change", {bubbles: true}));
      const left = [...chips.querySelectorAll("button[data-value]")];
      (left[Math.min(at, left.length - 1)] || search).focus();
    };
    chips.addEventListener("click", (ev) => {
      const btn = ev.target.closest("button[data-value]");
      if (btn) untick(btn);
    });
    chips.addEventListener("keydown", (ev) => {
      if ((ev.key === "Delete" || ev.key === "Backspace") && ev.target.matches("button[data-value]")) {
        ev.preventDefault();
        untick(ev.target);
      }
    });
    tree.addEventListener("change", (ev) => { if (byBox.has(ev.target)) renderChips(); });

    // -- start: sub-clauses closed except where something is ticked --------------------------------------------
    items.forEach((it) => {
      it.box.tabIndex = -1;
      if (!it.toggle) return;
      it.toggle.hidden = false;
      setOpen(it, Boolean(it.sub.querySelector("input:checked")));
    });
    tools.hidden = false;
    root.classList.add("cp-ready");
    renderChips();
    ensureCurrent();
  }

  document.querySelectorAll("[data-clause-picker]").forEach(setup);
})();
