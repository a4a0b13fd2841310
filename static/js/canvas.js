// The board: a free-layout canvas of one workflow's operations (templates/design/_board.html).
// Places the cards from their saved positions, pans (drag the background, the wheel) and zooms
// (Ctrl+wheel, the buttons, "Fit to screen"), draws the chain arrows in SVG from port to port,
// selects (click, Shift+click, Shift+drag a rubber band), moves the selection, draws and deletes
// arrows, and gives the keys: Alt+Arrow (move), Delete, Ctrl+D, Ctrl+C / Ctrl+V,
// Ctrl+Z / Ctrl+Shift+Z, Escape.
//
// Every edit is ONE request; the server answers with the message (#designer-flash, a live
// region) and the board out of band (hx-swap-oob), after which the board is laid out again
// here. Pan and zoom are the user's view only: kept per workflow in sessionStorage, never saved.
(function () {
  "use strict";

  const MIN_ZOOM = 0.2;
  const MAX_ZOOM = 2;
  const GRID = 8; // dropped cards snap to it
  const DRAG_THRESHOLD = 4; // pixels of movement before a press becomes a drag
  const CLIPBOARD_KEY = "designer-clipboard";

  let board = null;
  let viewport = null;
  let world = null;
  let view = { x: 0, y: 0, z: 1 };
  let selected = new Set(); // operation ids (strings)
  let selectedArrow = null; // the <g class="chain"> chosen
  let gesture = null; // the press in progress: pan, band, move or draw
  let frame = 0;

  // ------------------------------------------------------------------ coordinates and view
  function viewKey() {
    return "board-view-" + board.dataset.project + "-" + board.dataset.currentWorkflow;
  }

  function loadView() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(viewKey()) || "null");
      if (saved && isFinite(saved.x) && isFinite(saved.y) && isFinite(saved.z)) return saved;
    } catch (e) { /* a damaged entry: start from the default view */ }
    return null;
  }

  function saveView() {
    try { sessionStorage.setItem(viewKey(), JSON.stringify(view)); } catch (e) { /* private mode */ }
  }

  function applyView() {
    world.style.transform = "translate(" + view.x + "px, " + view.y + "px) scale(" + view.z + ")";
    const level = board.querySelector(".zoom-level");
    if (level) level.textContent = Math.round(view.z * 100) + "%";
  }

  // Canvas pixels under a point of the window.
  function toCanvas(clientX, clientY) {
    const rect = viewport.getBoundingClientRect();
    return { x: (clientX - rect.left - view.x) / view.z, y: (clientY - rect.top - view.y) / view.z };
  }

  function zoomAt(z, clientX, clientY) {
    const next = Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z));
    const point = toCanvas(clientX, clientY);
    const rect = viewport.getBoundingClientRect();
    view = { x: clientX - rect.left - point.x * next, y: clientY - rect.top - point.y * next, z: next };
    applyView();
    saveView();
  }

  function zoomBy(factor) {
    const rect = viewport.getBoundingClientRect();
    zoomAt(view.z * factor, rect.left + rect.width / 2, rect.top + rect.height / 2);
  }

  function cards() {
    return Array.from(world.querySelectorAll(".board-card"));
  }

  function fit() {
    const all = cards();
    if (!all.length) {
      view = { x: 0, y: 0, z: 1 };
    } else {
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      all.forEach((card) => {
        minX = Math.min(minX, card.offsetLeft);
        minY = Math.min(minY, card.offsetTop);
        maxX = Math.max(maxX, card.offsetLeft + card.offsetWidth);
        maxY = Math.max(maxY, card.offsetTop + card.offsetHeight);
      });
      const pad = 40;
      const w = viewport.clientWidth - 2 * pad;
      const h = viewport.clientHeight - 2 * pad;
      const z = Math.min(1, Math.max(MIN_ZOOM, Math.min(w / (maxX - minX), h / (maxY - minY))));
      view = {
        x: pad + (w - (maxX - minX) * z) / 2 - minX * z,
        y: pad + (h - (maxY - minY) * z) / 2 - minY * z,
        z: z,
      };
    }
    applyView();
    saveView();
  }

  // ------------------------------------------------------------------ layout and arrows
  function place(card, x, y) {
    card.style.left = x + "px";
    card.style.top = y + "px";
  }

  function layout() {
    cards().forEach((card) => place(card, +card.dataset.x || 0, +card.dataset.y || 0));
    drawArrows();
  }

  function center(el) {
    const r = el.getBoundingClientRect();
    return toCanvas(r.left + r.width / 2, r.top + r.height / 2);
  }

  function curve(a, b) {
    const dx = Math.min(160, Math.max(40, Math.abs(b.x - a.x) / 2));
    return "M" + a.x + "," + a.y + " C" + (a.x + dx) + "," + a.y + " " + (b.x - dx) + "," + b.y + " " + b.x + "," + b.y;
  }

  // An arrow to a card on the left goes round: out to the right, along under the source card
  // (``clear``: its bottom), and into the target from its left, so it never crosses the cards.
  function route(a, b, clear) {
    if (b.x >= a.x + 60) return curve(a, b);
    const out = 20;
    const y = b.y > a.y ? Math.max(clear + 16, (a.y + b.y) / 2) : Math.min(b.y - 40, clear + 16);
    return "M" + a.x + "," + a.y + " H" + (a.x + out) + " V" + y + " H" + (b.x - out) + " V" + b.y + " H" + b.x;
  }

  // All places are read first, then all paths written: writing a path between two reads would
  // make the browser lay the board out again for every arrow (slow with 200 operations).
  function drawArrows() {
    const paths = [];
    world.querySelectorAll("g.chain").forEach((g) => {
      const from = document.getElementById("operation-" + g.dataset.from);
      const to = document.getElementById("operation-" + g.dataset.to);
      const port = from && from.querySelector(".port-" + g.dataset.kind);
      const entry = to && to.querySelector(".port-in");
      if (!from || !to || !entry) return;
      // Without ports (a read-only user), the arrow leaves the card's right edge.
      const start = port ? center(port) : { x: from.offsetLeft + from.offsetWidth, y: from.offsetTop + 22 };
      const end = center(entry);
      paths.push([g, route(start, { x: end.x - 8, y: end.y }, from.offsetTop + from.offsetHeight)]);
    });
    paths.forEach(([g, d]) => g.querySelectorAll("path").forEach((p) => p.setAttribute("d", d)));
  }

  function redrawSoon() {
    if (frame) return;
    frame = requestAnimationFrame(() => { frame = 0; drawArrows(); });
  }

  // ------------------------------------------------------------------ selection
  // Forget what is no longer on the board (deleted, or another workflow shown).
  function pruneSelection() {
    const present = new Set(cards().map((c) => c.dataset.operation));
    selected = new Set(Array.from(selected).filter((id) => present.has(id)));
  }

  function applySelection() {
    cards().forEach((card) => card.classList.toggle("selected", selected.has(card.dataset.operation)));
    if (selectedArrow && !board.contains(selectedArrow)) selectedArrow = null;
    world.querySelectorAll("g.chain.selected").forEach((g) => { if (g !== selectedArrow) g.classList.remove("selected"); });
    if (selectedArrow) selectedArrow.classList.add("selected");
    const none = selected.size === 0;
    board.querySelectorAll("[data-board-action]").forEach((button) => {
      const action = button.dataset.boardAction;
      button.disabled = action === "paste" ? !clipboard() : none;
    });
  }

  function select(ids, add) {
    if (!add) selected.clear();
    ids.forEach((id) => selected.add(String(id)));
    selectedArrow = null;
    applySelection();
  }

  function chooseArrow(g) {
    selected.clear();
    selectedArrow = g;
    applySelection();
  }

  // ------------------------------------------------------------------ requests
  function send(url, values) {
    values.workflow = board.dataset.currentWorkflow;
    // The board in the page: between an answer's swap and its settle (when init() runs) `board`
    // is the old, detached one, and htmx silently drops a request from a detached element
    // (a quick Ctrl+Z right after a move was lost).
    const source = document.getElementById("canvas-content") || board;
    htmx.ajax("POST", url, { source: source, target: "#designer-flash", swap: "innerHTML", values: values });
  }

  function selectionUrl(action) {
    return board.dataset.selectionUrl.replace("ACTION", action);
  }

  function clipboard() {
    try { return JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "null"); } catch (e) { return null; }
  }

  function act(action) {
    if (board.dataset.canDesign !== "1") return;
    const ids = Array.from(selected).join(",");
    if (action === "copy") {
      if (!ids) return;
      // Ids only: the server reads the operations again, with the user's access, at paste.
      localStorage.setItem(CLIPBOARD_KEY, JSON.stringify({ project: board.dataset.project, ops: ids }));
      applySelection();
      announce(selected.size === 1 ? "Copied 1 operation." : "Copied " + selected.size + " operations.");
    } else if (action === "paste") {
      const copy = clipboard();
      if (copy) send(board.dataset.pasteUrl, { source_project: copy.project, ops: copy.ops });
    } else if (action === "delete") {
      if (selectedArrow) {
        send(board.dataset.chainUrl, {
          operation: selectedArrow.dataset.from, kind: selectedArrow.dataset.kind, to: "", version: selectedArrow.dataset.version,
        });
        selectedArrow = null;
      } else if (ids) {
        send(selectionUrl("delete"), { ops: ids });
      }
    } else if (action === "duplicate" && ids) {
      send(selectionUrl("duplicate"), { ops: ids });
    }
  }

  function announce(message) {
    const area = document.getElementById("designer-flash");
    if (!area) return;
    area.innerHTML = "";
    const div = document.createElement("div");
    div.className = "flash-message ok";
    div.textContent = message;
    area.appendChild(div);
  }

  // ------------------------------------------------------------------ the mouse
  function interactive(target) {
    return target.closest("button, a, summary, input, select, textarea, label, .menu-items, [data-roving]");
  }

  function onPointerDown(event) {
    if (event.button !== 0 || !board) return;
    const target = event.target;
    const design = board.dataset.canDesign === "1";
    const port = target.closest(".port-out");
    if (port && design) return startDraw(event, port);
    if (interactive(target)) return;
    const arrow = target.closest("g.chain");
    if (arrow) { chooseArrow(arrow); return; }
    const card = target.closest(".board-card");
    if (card) return startMove(event, card, design && !!target.closest("[data-drag-handle]"));
    if (event.shiftKey) return startBand(event);
    startPan(event);
  }

  function begin(event, kind, data) {
    gesture = Object.assign({ kind: kind, x0: event.clientX, y0: event.clientY, moved: false }, data);
    viewport.setPointerCapture(event.pointerId);
  }

  function startPan(event) {
    begin(event, "pan", { vx: view.x, vy: view.y });
    viewport.focus({ preventScroll: true });
  }

  function startBand(event) {
    const band = document.getElementById("rubber-band");
    begin(event, "band", { band: band, before: new Set(selected) });
    event.preventDefault();
  }

  function startMove(event, card, draggable) {
    const id = card.dataset.operation;
    const wasSelected = selected.has(id);
    if (event.shiftKey) {
      if (!wasSelected) select([id], true);
    } else if (!wasSelected) {
      select([id], false);
    }
    if (!draggable) {
      if (event.shiftKey && wasSelected) { selected.delete(id); applySelection(); }
      return;
    }
    const moving = cards().filter((c) => selected.has(c.dataset.operation));
    begin(event, "move", {
      card: card,
      toggle: event.shiftKey && wasSelected,
      moving: moving.map((c) => ({ card: c, x: +c.dataset.x || 0, y: +c.dataset.y || 0 })),
    });
    event.preventDefault();
  }

  function startDraw(event, port) {
    const card = port.closest(".board-card");
    card.classList.add("drawing-from");
    board.classList.add("drawing");
    const draft = document.getElementById("chain-draft");
    draft.hidden = false;
    draft.setAttribute("class", "chain-draft chain-" + port.dataset.port);
    begin(event, "draw", { card: card, chain: port.dataset.port, start: center(port), draft: draft });
    event.preventDefault();
  }

  function tabUnder(event) {
    const el = document.elementFromPoint(event.clientX, event.clientY);
    const tab = el && el.closest(".workflow-tab");
    return tab && tab.dataset.workflow !== board.dataset.currentWorkflow ? tab : null;
  }

  function onPointerMove(event) {
    if (!gesture) return;
    const dx = event.clientX - gesture.x0;
    const dy = event.clientY - gesture.y0;
    if (!gesture.moved && Math.abs(dx) + Math.abs(dy) < DRAG_THRESHOLD) return;
    gesture.moved = true;
    if (gesture.kind === "pan") {
      viewport.classList.add("panning");
      view.x = gesture.vx + dx;
      view.y = gesture.vy + dy;
      applyView();
    } else if (gesture.kind === "move") {
      gesture.moving.forEach((m) => {
        m.card.classList.add("moving");
        place(m.card, snap(m.x + dx / view.z), snap(m.y + dy / view.z));
      });
      board.querySelectorAll(".workflow-tab.drop-target").forEach((t) => t.classList.remove("drop-target"));
      const tab = tabUnder(event);
      if (tab) tab.classList.add("drop-target");
      redrawSoon();
    } else if (gesture.kind === "band") {
      const rect = viewport.getBoundingClientRect();
      const left = Math.min(event.clientX, gesture.x0), top = Math.min(event.clientY, gesture.y0);
      const right = Math.max(event.clientX, gesture.x0), bottom = Math.max(event.clientY, gesture.y0);
      const band = gesture.band;
      band.hidden = false;
      band.style.left = left - rect.left + "px";
      band.style.top = top - rect.top + "px";
      band.style.width = right - left + "px";
      band.style.height = bottom - top + "px";
      selected = new Set(gesture.before);
      cards().forEach((card) => {
        const r = card.getBoundingClientRect();
        if (r.left < right && r.right > left && r.top < bottom && r.bottom > top) selected.add(card.dataset.operation);
      });
      applySelection();
    } else if (gesture.kind === "draw") {
      const end = toCanvas(event.clientX, event.clientY);
      gesture.draft.setAttribute("d", curve(gesture.start, end));
    }
  }

  function snap(value) {
    return Math.round(value / GRID) * GRID;
  }

  function onPointerUp(event) {
    if (!gesture) return;
    const g = gesture;
    gesture = null;
    viewport.classList.remove("panning");
    if (g.kind === "pan") {
      if (g.moved) saveView();
      else { selected.clear(); selectedArrow = null; applySelection(); }
    } else if (g.kind === "band") {
      g.band.hidden = true;
    } else if (g.kind === "move") {
      finishMove(event, g);
    } else if (g.kind === "draw") {
      g.draft.hidden = true;
      g.draft.removeAttribute("d");
      board.classList.remove("drawing");
      g.card.classList.remove("drawing-from");
      const el = document.elementFromPoint(event.clientX, event.clientY);
      const to = el && el.closest(".board-card");
      if (to && to !== g.card) {
        send(board.dataset.chainUrl, {
          operation: g.card.dataset.operation, kind: g.chain, to: to.dataset.operation, version: g.card.dataset.version,
        });
      }
    }
  }

  function finishMove(event, g) {
    board.querySelectorAll(".workflow-tab.drop-target").forEach((t) => t.classList.remove("drop-target"));
    g.moving.forEach((m) => m.card.classList.remove("moving"));
    if (!g.moved) {
      if (g.toggle) { selected.delete(g.card.dataset.operation); applySelection(); }
      return;
    }
    const tab = tabUnder(event);
    if (tab) {
      // Dropped on another workflow's tab: the selection moves there.
      g.moving.forEach((m) => place(m.card, m.x, m.y));
      drawArrows();
      send(selectionUrl("move"), { ops: Array.from(selected).join(","), to_workflow: tab.dataset.workflow });
      return;
    }
    const moves = g.moving.map((m) => ({
      id: +m.card.dataset.operation,
      version: +m.card.dataset.version,
      x: parseInt(m.card.style.left, 10),
      y: parseInt(m.card.style.top, 10),
    }));
    send(board.dataset.moveUrl, { moves: JSON.stringify(moves) });
  }

  function onWheel(event) {
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      zoomAt(view.z * (event.deltaY < 0 ? 1.1 : 1 / 1.1), event.clientX, event.clientY);
    } else if (!event.target.closest(".steps, .menu-items")) {
      event.preventDefault();
      view.x -= event.deltaX;
      view.y -= event.deltaY;
      applyView();
      saveView();
    }
  }

  // ------------------------------------------------------------------ the keyboard
  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable=true]") || document.querySelector("dialog[open]");
  }

  // The keyboard path to a drag: Alt+Arrow moves the focused card (or, focus outside the cards,
  // the selection) KEY_STEP pixels, with Shift KEY_STEP_BIG. Presses in a row are shown at once
  // and saved together after a pause: one request and one undoable "Move", like one drag (a
  // request per press would also race the card versions the server checks).
  const ARROWS = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  const KEY_STEP = 20;
  const KEY_STEP_BIG = 100;
  const KEY_SAVE_DELAY = 400; // ms without a press before the move is saved
  let keyMove = null; // {cards, timer}: the key move not yet saved
  let refocus = null; // the card id to give the focus back to once the answer redraws the board

  function keyboardMove(event) {
    const own = event.target.closest(".board-card");
    if (own && own !== event.target) return false; // a step or a menu in the card: its keys
    const moving = own ? [own] : cards().filter((c) => selected.has(c.dataset.operation));
    if (!moving.length) return false;
    event.preventDefault();
    if (own && !selected.has(own.dataset.operation)) select([own.dataset.operation], false);
    const [dx, dy] = ARROWS[event.key].map((d) => d * (event.shiftKey ? KEY_STEP_BIG : KEY_STEP));
    if (!keyMove) keyMove = { cards: new Set(), timer: 0 };
    moving.forEach((card) => {
      keyMove.cards.add(card);
      place(card, Math.max(0, parseInt(card.style.left, 10) + dx), Math.max(0, parseInt(card.style.top, 10) + dy));
    });
    drawArrows();
    refocus = own ? own.dataset.operation : null;
    clearTimeout(keyMove.timer);
    keyMove.timer = setTimeout(saveKeyMove, KEY_SAVE_DELAY);
    return true;
  }

  function saveKeyMove() {
    const pending = keyMove;
    keyMove = null;
    if (!pending) return;
    const moves = Array.from(pending.cards).filter((card) => board.contains(card)).map((card) => ({
      id: +card.dataset.operation,
      version: +card.dataset.version,
      x: parseInt(card.style.left, 10),
      y: parseInt(card.style.top, 10),
    }));
    if (moves.length) send(board.dataset.moveUrl, { moves: JSON.stringify(moves) });
  }

  function cancelKeyMove() {
    clearTimeout(keyMove.timer);
    keyMove.cards.forEach((card) => place(card, +card.dataset.x || 0, +card.dataset.y || 0));
    keyMove = null;
    refocus = null;
    drawArrows();
    announce("Move cancelled.");
  }

  function onKeydown(event) {
    if (!board || typing(event.target)) return;
    const ctrl = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    if (event.altKey && !ctrl && ARROWS[event.key] && board.dataset.canDesign === "1") {
      keyboardMove(event);
      return;
    }
    if (keyMove && ctrl && key === "z" && !event.shiftKey) {
      // Undo of a key move not saved yet: put the cards back, nothing to ask the server.
      event.preventDefault();
      cancelKeyMove();
      return;
    }
    if (ctrl && key === "z") {
      event.preventDefault();
      send(event.shiftKey ? board.dataset.redoUrl : board.dataset.undoUrl, {});
    } else if (ctrl && key === "y") {
      event.preventDefault();
      send(board.dataset.redoUrl, {});
    } else if (ctrl && key === "c" && selected.size && !String(window.getSelection())) {
      event.preventDefault();
      act("copy");
    } else if (ctrl && key === "v" && clipboard()) {
      event.preventDefault();
      act("paste");
    } else if (ctrl && key === "d" && selected.size) {
      event.preventDefault();
      act("duplicate");
    } else if (ctrl && key === "a" && viewport.contains(event.target)) {
      event.preventDefault();
      select(cards().map((c) => c.dataset.operation), false);
    } else if ((event.key === "Delete" || event.key === "Backspace") && (selected.size || selectedArrow)) {
      // Not while a step or a menu inside a card has the focus: those keys are theirs.
      if (event.target.closest(".steps, .menu")) return;
      event.preventDefault();
      act("delete");
    } else if (event.key === "Escape" && (selected.size || selectedArrow)) {
      selected.clear();
      selectedArrow = null;
      applySelection();
    }
  }

  // ------------------------------------------------------------------ set up (and after each swap)
  function init() {
    const found = document.getElementById("canvas-content");
    if (!found || found.dataset.boardReady === "1") return;
    found.dataset.boardReady = "1";
    const sameWorkflow = board && board.dataset.currentWorkflow === found.dataset.currentWorkflow;
    board = found;
    viewport = document.getElementById("board-viewport");
    world = document.getElementById("board-world");
    const saved = loadView();
    layout();
    if (saved) {
      view = saved;
      applyView();
    } else if (!sameWorkflow) {
      view = { x: 0, y: 0, z: 1 };
      applyView();
    } else {
      applyView();
    }
    drawArrows();
    pruneSelection();
    applySelection();
    if (refocus) {
      // The answer to a key move replaced the cards: the moved one keeps the focus.
      const again = document.getElementById("operation-" + refocus);
      refocus = null;
      const lost = !document.activeElement || document.activeElement === document.body;
      if (again && lost) again.focus({ preventScroll: true });
    }
    viewport.addEventListener("pointerdown", onPointerDown);
    viewport.addEventListener("pointermove", onPointerMove);
    viewport.addEventListener("pointerup", onPointerUp);
    viewport.addEventListener("pointercancel", onPointerUp);
    viewport.addEventListener("wheel", onWheel, { passive: false });
    board.addEventListener("click", (event) => {
      const zoom = event.target.closest("[data-zoom]");
      if (zoom) {
        if (zoom.dataset.zoom === "in") zoomBy(1.2);
        else if (zoom.dataset.zoom === "out") zoomBy(1 / 1.2);
        else fit();
      }
      const action = event.target.closest("[data-board-action]");
      if (action) act(action.dataset.boardAction);
    });
    // A card grows or shrinks (a step added, a run's live panel): its arrows follow.
    if (window.ResizeObserver) {
      const observer = new ResizeObserver(redrawSoon);
      cards().forEach((card) => observer.observe(card));
    }
  }

  document.addEventListener("keydown", onKeydown);
  document.addEventListener("htmx:load", init);
  document.addEventListener("DOMContentLoaded", init);
  // The server names what to select after a paste or a duplicate (the copies).
  document.addEventListener("board-select", (event) => select(event.detail.ids, false));
  window.addEventListener("storage", (event) => { if (event.key === CLIPBOARD_KEY && board) applySelection(); });

  window.designerBoard = {
    toCanvas: (x, y) => toCanvas(x, y),
    select: (ids) => select(ids, false),
    selected: () => Array.from(selected),
    view: () => Object.assign({}, view),
    fit: fit,
    redraw: () => drawArrows(),
  };
})();
