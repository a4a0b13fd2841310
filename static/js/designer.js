// The designer page's small behaviours: palette tabs and search, the side dialog, menus and
// narrow windows (drops on the canvas are static/js/steps.js's: each is a step). Every change
// is an htmx request; the server answers with a message and a "designer-changed" event on
// which the panes reload themselves.
(function () {
  "use strict";

  // ---------------------------------------------------------------- palette tabs and search
  function initTabs(root) {
    const tabs = root.querySelectorAll('[role="tab"][aria-controls]');
    tabs.forEach((tab) => {
      tab.addEventListener("click", () => {
        tabs.forEach((other) => {
          const selected = other === tab;
          other.setAttribute("aria-selected", String(selected));
          document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
        });
      });
    });
  }

  function applySearch(root) {
    const box = root.querySelector(".palette-search");
    if (!box) return;
    const needle = box.value.trim().toLowerCase();
    const items = Array.from(root.querySelectorAll("[data-search]"));
    const matches = new Set(items.filter((i) => needle && i.dataset.search.includes(needle)));
    items.forEach((item) => {
      if (!needle) {
        item.hidden = false;
        return;
      }
      // Shown if it matches, holds a match, or sits under a match (an endpoint's children).
      let visible = matches.has(item);
      if (!visible) visible = Array.from(item.querySelectorAll("[data-search]")).some((c) => matches.has(c));
      if (!visible) {
        for (let up = item.parentElement; up && up !== root; up = up.parentElement) {
          if (matches.has(up)) { visible = true; break; }
        }
      }
      item.hidden = !visible;
    });
  }

  function initSearch(root) {
    const box = root.querySelector(".palette-search");
    if (box) box.addEventListener("input", () => applySearch(root));
  }

  // ---------------------------------------------------------------- the side dialog
  function dialog() {
    return document.getElementById("designer-dialog");
  }

  function closeDialog() {
    const d = dialog();
    if (d && d.open) d.close();
    const body = document.getElementById("dialog-body");
    if (body) body.innerHTML = "";
  }

  function flash(message, ok) {
    const area = document.getElementById("designer-flash");
    if (!area || !message) return;
    area.innerHTML = "";
    const div = document.createElement("div");
    div.className = "flash-message " + (ok === false ? "error" : "ok");
    div.textContent = message;
    area.appendChild(div);
    fadeLater(area);
  }

  // Confirmations fade after a while; refusals stay until the next message.
  function fadeLater(area) {
    const shown = area.querySelector(".flash-message.ok");
    if (shown) setTimeout(() => shown.remove(), 8000);
  }

  function watchDirty(form) {
    const test = document.getElementById("test-button");
    const hint = document.getElementById("test-hint");
    form.addEventListener("input", () => {
      form.dataset.dirty = "1";
      if (test) {
        test.disabled = true;
        test.title = "Save Changes first: Test uses the saved connection.";
      }
      if (hint) hint.textContent = "Unsaved changes: Save Changes first, then Test.";
    });
  }

  // "Connect with ..." only for the authentication choice that uses it (not a pasted token),
  // following the form's select before the change is saved.
  function followOAuthChoice(root) {
    root.querySelectorAll(".oauth-form[data-oauth-field]").forEach((oauth) => {
      const select = root.querySelector(`#connection-form [name="${oauth.dataset.oauthField}"]`);
      if (!select) return;
      const apply = () => { oauth.hidden = select.value !== oauth.dataset.oauthValue; };
      select.addEventListener("change", apply);
    });
  }

  // A refused save re-renders the form; what the user typed into password boxes is never
  // sent back by the server, so it is kept here instead of being wiped.
  let typedSecrets = null;

  function keepTypedSecrets(event) {
    const target = event.detail.target;
    if (!target || target.id !== "dialog-body" || event.detail.xhr.status !== 422) return;
    typedSecrets = {};
    target.querySelectorAll('input[type="password"]').forEach((input) => {
      if (input.value) typedSecrets[input.name] = input.value;
    });
  }

  function restoreTypedSecrets(target) {
    if (!typedSecrets) return;
    Object.entries(typedSecrets).forEach(([name, value]) => {
      const input = target.querySelector(`input[type="password"][name="${name}"]`);
      if (input && !input.value) input.value = value;
    });
    typedSecrets = null;
  }

  function initDialog() {
    document.body.addEventListener("htmx:beforeSwap", keepTypedSecrets);
    document.body.addEventListener("htmx:afterSwap", (event) => {
      const target = event.detail.target;
      if (target && target.id === "dialog-body") {
        const d = dialog();
        if (target.innerHTML.trim() && !d.open) d.showModal();
        target.querySelectorAll("[data-dirty-watch]").forEach(watchDirty);
        restoreTypedSecrets(target);
        followOAuthChoice(target);
      }
      if (target && target.id === "palette-content") applySearch(document.querySelector(".palette"));
      if (target && target.id === "designer-flash") fadeLater(target);
    });
    document.body.addEventListener("close-dialog", (event) => {
      closeDialog();
      if (event.detail && event.detail.message) flash(event.detail.message, true);
    });
    document.addEventListener("click", (event) => {
      if (event.target.closest("[data-close-dialog]")) {
        closeDialog();
      } else if (event.target.closest("[data-discard]")) {
        if (window.confirm("Discard your changes?")) closeDialog();
      }
      // One open ⋯ menu at a time; a click elsewhere closes it.
      document.querySelectorAll("details.menu[open]").forEach((menu) => {
        if (!menu.contains(event.target)) menu.open = false;
      });
      // An action chosen from a menu closes it (after htmx and the form have seen the click).
      const action = event.target.closest(".menu-items button");
      if (action) {
        const menu = action.closest("details.menu");
        setTimeout(() => { if (menu) menu.open = false; }, 0);
      }
    });
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      document.querySelectorAll("details.menu[open]").forEach((menu) => {
        menu.open = false;
        menu.querySelector("summary").focus();
      });
    });
  }

  // ---------------------------------------------------------------- narrow windows
  // Below 900 px the panes stack above and below the canvas; each can be folded away so the
  // canvas is reached without scrolling past them (the button shows only there, app.css).
  function initPaneToggles() {
    document.querySelectorAll(".palette, .project-pane").forEach((pane) => {
      const name = (pane.getAttribute("aria-label") || "pane").toLowerCase();
      const button = document.createElement("button");
      button.type = "button";
      button.className = "pane-toggle";
      const render = () => {
        const folded = pane.classList.contains("collapsed");
        button.textContent = (folded ? "Show " : "Hide ") + name;
        button.setAttribute("aria-expanded", String(!folded));
      };
      button.addEventListener("click", () => {
        pane.classList.toggle("collapsed");
        render();
      });
      render();
      pane.prepend(button);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    initPaneToggles();
    const palette = document.querySelector(".palette");
    if (palette) {
      initTabs(palette);
      initSearch(palette);
    }
    initDialog();
  });
})();
