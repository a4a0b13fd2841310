// Steps and tools on the designer page: the keyboard (a roving tabindex in the palette and in
// each operation's steps, so reaching an activity's menu takes a few keys, not dozens of Tabs)
// and dropping an activity or a tool between or after an operation's steps. Every change is
// one htmx request to the server, which answers with the message (#designer-flash, a live
// region: it is announced) and the operation's steps out of band.
(function () {
  "use strict";

  // ------------------------------------------------------------------ roving tabindex
  // A group is one tab stop; the arrow keys move inside it. Controls of a group that are not
  // the current one get tabindex="-1"; the current one keeps tabindex="0".
  function visible(el) {
    return !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length) && !el.closest("[hidden]");
  }

  function controlsIn(scope) {
    return Array.from(scope.querySelectorAll("button, summary, a[href]")).filter(
      (el) => !el.closest(".menu-items") && !el.disabled && visible(el)
    );
  }

  function makeCurrent(group, control, focus) {
    group.querySelectorAll("[data-roving]").forEach((el) => {
      if (el !== control) el.setAttribute("tabindex", "-1");
    });
    if (!control) return;
    control.setAttribute("tabindex", "0");
    control.dataset.roving = "1";
    group.dataset.current = keyOf(control);
    if (focus) control.focus();
  }

  function keyOf(control) {
    return control.id || control.getAttribute("aria-label") || control.textContent.trim();
  }

  // Put every control of the group out of the tab order except the current one (kept across
  // re-renders by its id or name); called after each swap.
  function initGroup(group, rowsOf) {
    const rows = rowsOf(group);
    let current = null;
    rows.forEach((row) => {
      controlsIn(row).forEach((control) => {
        control.dataset.roving = "1";
        control.setAttribute("tabindex", "-1");
        if (group.dataset.current && keyOf(control) === group.dataset.current) current = control;
      });
    });
    if (!current && rows.length) current = controlsIn(rows[0])[0] || null;
    makeCurrent(group, current, false);
  }

  function moveInGroup(event, group, rowsOf) {
    const control = event.target.closest("[data-roving]");
    if (!control || !group.contains(control)) return false;
    const rows = rowsOf(group);
    const row = rows.find((r) => r.contains(control));
    if (!row) return false;
    const rowIndex = rows.indexOf(row);
    const inRow = controlsIn(row);
    const col = inRow.indexOf(control);
    let next = null;
    const horizontal = group.dataset.axis === "horizontal";
    const nextRowKey = horizontal ? "ArrowRight" : "ArrowDown";
    const prevRowKey = horizontal ? "ArrowLeft" : "ArrowUp";
    const nextColKey = horizontal ? "ArrowDown" : "ArrowRight";
    const prevColKey = horizontal ? "ArrowUp" : "ArrowLeft";
    switch (event.key) {
      case nextRowKey:
        if (rows[rowIndex + 1]) next = controlsIn(rows[rowIndex + 1])[0];
        break;
      case prevRowKey:
        if (rows[rowIndex - 1]) next = controlsIn(rows[rowIndex - 1])[0];
        break;
      case nextColKey:
        next = inRow[col + 1] || null;
        break;
      case prevColKey:
        next = inRow[col - 1] || null;
        break;
      case "Home":
        next = controlsIn(rows[0])[0];
        break;
      case "End":
        next = controlsIn(rows[rows.length - 1])[0];
        break;
      default:
        return false;
    }
    event.preventDefault();
    event.stopPropagation();
    if (next) makeCurrent(group, next, true);
    return true;
  }

  // The palette: one row per endpoint head, activity type, activity, connector, tool.
  function paletteRows(panel) {
    return Array.from(
      panel.querySelectorAll(".endpoint-head, .palette-item, li.connector")
    ).filter(visible);
  }

  // An operation's steps: the "+" gaps and the steps, left to right (a step's actions and
  // its branches below it: ArrowDown).
  function stepRows(list) {
    return Array.from(list.querySelectorAll(":scope > li.step-gap, :scope > li.step")).filter(visible);
  }

  function stepControls(row) {
    return controlsIn(row).filter((el) => !el.closest(".branches"));
  }

  function initPalette() {
    document.querySelectorAll(".palette .tabpanel").forEach((panel) => initGroup(panel, paletteRows));
  }

  function initSteps(root) {
    (root || document).querySelectorAll("ol.steps").forEach((list) => {
      list.dataset.axis = "horizontal";
      initGroup(list, stepRows);
    });
  }

  // The palette's tabs (WAI-ARIA tabs: arrows move between tabs and select them).
  function initTabKeys() {
    const list = document.querySelector(".palette [role=tablist]");
    if (!list) return;
    const tabs = () => Array.from(list.querySelectorAll("[role=tab]"));
    const sync = () =>
      tabs().forEach((t) => t.setAttribute("tabindex", t.getAttribute("aria-selected") === "true" ? "0" : "-1"));
    sync();
    list.addEventListener("click", () => setTimeout(() => { sync(); initPalette(); }, 0));
    list.addEventListener("keydown", (event) => {
      const all = tabs();
      const i = all.indexOf(document.activeElement);
      if (i < 0) return;
      let next = null;
      if (event.key === "ArrowRight") next = all[(i + 1) % all.length];
      else if (event.key === "ArrowLeft") next = all[(i - 1 + all.length) % all.length];
      else if (event.key === "Home") next = all[0];
      else if (event.key === "End") next = all[all.length - 1];
      if (!next) return;
      event.preventDefault();
      next.focus();
      next.click();
    });
  }

  // Type-ahead in the palette (as in a tree view): letters typed within a moment go to the
  // next row whose name starts with them, e.g. "ad" for "Add contact".
  let typed = "";
  let typedAt = 0;

  function typeAhead(event, panel) {
    if (event.key.length !== 1 || event.key === " " || !event.target.closest("[data-roving]")) return;
    const now = Date.now();
    typed = now - typedAt < 800 ? typed + event.key.toLowerCase() : event.key.toLowerCase();
    typedAt = now;
    const rows = paletteRows(panel);
    const here = rows.findIndex((r) => r.contains(event.target));
    // A new search starts after the current row; a longer one may match the current row.
    const start = typed.length === 1 ? here + 1 : Math.max(here, 0);
    const ordered = rows.slice(start).concat(rows.slice(0, start));
    const found = ordered.find((row) => {
      const first = controlsIn(row)[0];
      return first && first.textContent.trim().toLowerCase().startsWith(typed);
    });
    if (found) {
      event.preventDefault();
      makeCurrent(panel, controlsIn(found)[0], true);
    }
  }

  function onKeydown(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (!(target instanceof Element)) return;
    // The search box: ArrowDown goes to the first match.
    if (target.matches(".palette-search") && event.key === "ArrowDown") {
      const panel = target.closest(".tabpanel");
      const first = paletteRows(panel)[0];
      const control = first && controlsIn(first)[0];
      if (control) {
        event.preventDefault();
        makeCurrent(panel, control, true);
      }
      return;
    }
    // Inside an open ⋯ menu: up and down between its actions.
    const menu = target.closest("details.menu[open]");
    if (menu && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      const items = Array.from(menu.querySelectorAll("summary, .menu-items button")).filter(visible);
      const i = items.indexOf(target);
      const next = items[i + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) {
        event.preventDefault();
        event.stopPropagation();
        next.focus();
      }
      return;
    }
    const panel = target.closest(".palette .tabpanel");
    if (panel) {
      if (!moveInGroup(event, panel, paletteRows)) typeAhead(event, panel);
      return;
    }
    const list = target.closest("ol.steps");
    if (list) {
      if ((event.key === "Delete" || event.key === "Backspace") && target.matches(".step-name")) {
        // Delete on a step removes it (its Remove button); the focus stays at that place.
        const remove = target.closest("li.step").querySelector(":scope > .step-actions [hx-post*='/remove/']");
        if (remove) {
          event.preventDefault();
          event.stopPropagation();
          const top = list.closest("ol.steps.chain") || list;
          const controls = stepRows(top).flatMap((r) => stepControls(r));
          pendingFocus = { list: top.id, index: Math.max(controls.indexOf(target) - 1, 0), until: Date.now() + 4000 };
          top.dataset.stale = "1";
          remove.click();
        }
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        // Within a step: its name, its actions, then its branches.
        const row = target.closest("li.step, li.step-gap");
        const inside = row ? controlsIn(row).filter((el) => el.closest("li.step, li.step-gap") === row || el.closest("ol.steps") !== list) : [];
        const i = inside.indexOf(target);
        const next = inside[i + (event.key === "ArrowDown" ? 1 : -1)];
        if (next) {
          event.preventDefault();
          event.stopPropagation();
          const group = next.closest("ol.steps");
          makeCurrent(group, next, true);
          return;
        }
        if (event.key === "ArrowUp" && list.parentElement.closest("li.step")) {
          // Out of a branch, back to its condition.
          const owner = list.parentElement.closest("li.step");
          const name = owner.querySelector(".step-name");
          if (name) {
            event.preventDefault();
            event.stopPropagation();
            makeCurrent(owner.closest("ol.steps"), name, true);
          }
        }
        return;
      }
      list.dataset.axis = "horizontal";
      moveInGroup(event, list, (group) => stepRows(group).filter((r) => stepControls(r).length));
    }
  }

  // ------------------------------------------------------------------ drag and drop
  let payload = null;

  function dropZone(target) {
    return (
      target.closest(".step-gap") ||
      target.closest("[data-operation]") ||
      null
    );
  }

  function clearHover() {
    document.querySelectorAll(".step-drop-hover").forEach((el) => el.classList.remove("step-drop-hover"));
  }

  function dropValues(event) {
    const values = {};
    if (payload.drag === "type") {
      values.connection = payload.connection;
      values.activity_type = payload.activityType;
    } else if (payload.drag === "activity") {
      values.activity = payload.activity;
    } else if (payload.drag === "tool") {
      values.tool = payload.tool;
    } else if (payload.drag === "step") {
      values.from_step = payload.fromStep;
    }
    const card = event.target.closest("[data-operation]");
    if (card) {
      values.operation = card.dataset.operation;
      const list = card.querySelector("ol.steps[data-version]");
      values.version = (list && list.dataset.version) || card.dataset.version;
    }
    if (!card && window.designerBoard && window.designerBoard.toCanvas) {
      // A new operation, where it was dropped (canvas pixels, whatever the pan and zoom).
      const at = window.designerBoard.toCanvas(event.clientX, event.clientY);
      values.x = Math.round(at.x);
      values.y = Math.round(at.y);
    }
    const gap = event.target.closest(".step-gap");
    if (gap) {
      values.position = gap.dataset.dropPosition;
      if (gap.dataset.dropParent) {
        values.parent = gap.dataset.dropParent;
        values.branch = gap.dataset.dropBranch;
      }
    }
    const workflow = document.querySelector("[data-workflow][aria-selected=true], [data-current-workflow]");
    if (workflow) values.workflow = workflow.dataset.workflow || workflow.dataset.currentWorkflow;
    return values;
  }

  function initDrops() {
    const canvas = document.getElementById("designer-canvas");
    if (!canvas || canvas.dataset.canDesign !== "1") return;
    // The Tools tab carries the URL (present whenever the user may design).
    const holder = document.querySelector("[data-step-add-url]");
    const url = holder && holder.dataset.stepAddUrl;
    if (!url) return;
    document.addEventListener("dragstart", (event) => {
      const item =
        event.target.closest &&
        event.target.closest('[data-drag="type"], [data-drag="activity"], [data-drag="tool"], [data-drag="step"][data-from-step]');
      payload = item ? Object.assign({}, item.dataset) : null;
      if (payload && payload.drag === "step") {
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", JSON.stringify(payload));
      }
      if (payload && payload.drag === "tool") {
        event.dataTransfer.effectAllowed = "copy";
        event.dataTransfer.setData("text/plain", JSON.stringify(payload));
      }
    });
    document.addEventListener("dragend", () => {
      payload = null;
      clearHover();
    });
    // Capture phase: a palette drop on the canvas is placed here, as a step; other drags
    // (moving operations, drawing arrows) go on to the board's own handlers.
    canvas.addEventListener(
      "dragover",
      (event) => {
        if (!payload) return;
        event.preventDefault();
        event.stopPropagation();
        event.dataTransfer.dropEffect = payload.drag === "step" ? "move" : "copy";
        clearHover();
        const zone = dropZone(event.target);
        if (zone) zone.classList.add("step-drop-hover");
      },
      true
    );
    canvas.addEventListener(
      "drop",
      (event) => {
        if (!payload) return;
        event.preventDefault();
        event.stopPropagation();
        const values = dropValues(event);
        payload = null;
        clearHover();
        htmx.ajax("POST", url, { source: canvas, target: "#designer-flash", swap: "innerHTML", values: values });
      },
      true
    );
  }

  // ------------------------------------------------------------------ focus after a change
  let pendingFocus = null;

  function focusPending() {
    if (!pendingFocus) return;
    if (pendingFocus.list) {
      // After a removal: the control now at that place of the (re-rendered) chain.
      const top = document.getElementById(pendingFocus.list);
      if (!top || top.dataset.stale) return; // still the list from before the removal
      const controls = stepRows(top).flatMap((r) => stepControls(r));
      const control = controls[Math.min(pendingFocus.index, controls.length - 1)];
      if (control && !document.querySelector("#" + pendingFocus.list + " [data-roving]:focus")) {
        makeCurrent(top, control, true);
        pendingFocus = null;
      }
      return;
    }
    const step = document.getElementById("step-" + pendingFocus.step);
    const name = step && step.querySelector(".step-name");
    if (!name) return;
    const group = name.closest("ol.steps");
    if (group) makeCurrent(group, name, true);
    else name.focus();
    pendingFocus = null; // once: later swaps (a dialog opening) keep their own focus
  }

  document.addEventListener("DOMContentLoaded", () => {
    initPalette();
    initSteps();
    initTabKeys();
    initDrops();
    document.addEventListener("keydown", onKeydown, true);
    document.body.addEventListener("step-added", (event) => {
      pendingFocus = { step: event.detail.step, until: Date.now() + 4000 };
      setTimeout(focusPending, 0);
    });
    document.body.addEventListener("htmx:afterSettle", (event) => {
      initPalette();
      initSteps();
      if (pendingFocus && Date.now() < pendingFocus.until) focusPending();
      else pendingFocus = null;
    });
    // Search changes which rows show: keep the palette's tab stop on a visible one.
    const search = document.querySelector(".palette-search");
    if (search) search.addEventListener("input", () => setTimeout(initPalette, 0));
  });
})();
