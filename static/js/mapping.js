// The mapping editor: drag a source field onto a target field (or click one, then the
// other), choose how each target is filled, and save, auto-map or preview over fetch.
// The DOM is the state: each target's .rule cell holds its kind and value.
(function () {
  "use strict";

  const editor = document.getElementById("mapping-editor");
  if (!editor) return;
  const canDesign = editor.dataset.canDesign === "true";
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
  const status = editor.querySelector(".mapping-status");
  const problemsList = editor.querySelector(".mapping-problems");
  let selectedSource = null;

  function cells() {
    return Array.from(editor.querySelectorAll(".rule[data-rule-for]")).filter(
      (cell) => cell.dataset.ruleFor !== "",
    );
  }

  function cellFor(path) {
    return cells().find((cell) => cell.dataset.ruleFor === path) || null;
  }

  function collectRules() {
    const rules = [];
    cells().forEach((cell) => {
      const kind = cell.querySelector(".rule-kind").value;
      if (!kind) return;
      rules.push({ target: cell.dataset.ruleFor, kind: kind, value: cell.querySelector(".rule-value").value });
    });
    return rules;
  }

  function addExtraTarget(path) {
    const template = document.getElementById("extra-target-template");
    if (!template) return null;
    const item = template.content.firstElementChild.cloneNode(true);
    item.dataset.path = path;
    item.querySelector(".field-name").textContent = path;
    const cell = item.querySelector(".rule");
    cell.dataset.ruleFor = path;
    cell.querySelector(".rule-kind").setAttribute("aria-label", "How " + path + " is mapped");
    cell.querySelector(".rule-value").setAttribute("aria-label", "Mapping of " + path);
    const clear = cell.querySelector(".rule-clear");
    if (clear) clear.setAttribute("aria-label", "Unmap " + path);
    editor.querySelector(".extra-targets").appendChild(item);
    return cell;
  }

  function setRule(path, kind, value) {
    const cell = cellFor(path) || addExtraTarget(path);
    if (!cell) return null;
    cell.querySelector(".rule-kind").value = kind || "";
    cell.querySelector(".rule-value").value = value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
    refresh(cell);
    return cell;
  }

  function refresh(cell) {
    const kind = cell.querySelector(".rule-kind").value;
    const input = cell.querySelector(".rule-value");
    cell.classList.toggle("mapped", kind !== "");
    input.placeholder = { path: "source field", constant: "value", expression: "e.g. first_name ~ ' ' ~ last_name" }[kind] || "";
    if (kind === "path") input.setAttribute("list", "source-paths");
    else input.removeAttribute("list");
    const row = cell.closest(".target-field");
    if (row && row.dataset.required === "true") {
      row.classList.toggle("unmapped-required", kind === "");
    }
    // A "required ... not mapped" message is out of date once the field is mapped.
    problemsList.querySelectorAll(".problem").forEach((item) => {
      if (item.dataset.target === cell.dataset.ruleFor && item.textContent.includes("is not mapped")) {
        item.hidden = kind !== "";
      }
    });
  }

  function clearMessages() {
    editor.querySelectorAll(".rule-message").forEach((m) => (m.textContent = ""));
    editor.querySelectorAll(".rule-invalid").forEach((c) => c.classList.remove("rule-invalid"));
  }

  function showProblems(problems) {
    clearMessages();
    problemsList.replaceChildren();
    (problems || []).forEach((p) => {
      const li = document.createElement("li");
      li.className = "problem problem-" + p.level;
      li.dataset.target = p.target;
      li.textContent = p.message;
      problemsList.appendChild(li);
      const cell = cellFor(p.target);
      if (cell) {
        if (p.level === "error") cell.classList.add("rule-invalid");
        const box = cell.querySelector(".rule-message");
        box.textContent = box.textContent ? box.textContent + " " + p.message : p.message;
      }
    });
  }

  function say(text, isError) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", !!isError);
    status.classList.toggle("ok", !isError);
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    return response;
  }

  async function save() {
    say("Saving…");
    const response = await post(editor.dataset.saveUrl, { rules: collectRules(), version: Number(editor.dataset.version) });
    const data = await response.json().catch(() => ({ ok: false, message: "The server's answer could not be read." }));
    showProblems(data.problems);
    if (data.ok) editor.dataset.version = data.version;
    say(data.message, !data.ok);
  }

  async function automap() {
    say("Auto-mapping…");
    const response = await post(editor.dataset.automapUrl, { rules: collectRules() });
    const data = await response.json().catch(() => ({ ok: false, message: "Auto-map failed." }));
    if (data.ok) {
      editor.querySelectorAll(".auto-mapped").forEach((c) => c.classList.remove("auto-mapped"));
      const added = new Set(data.added);
      data.rules.forEach((rule) => {
        if (!added.has(rule.target)) return;
        const cell = setRule(rule.target, rule.kind, rule.value);
        if (cell) cell.classList.add("auto-mapped");
      });
    }
    say(data.message, !data.ok);
  }

  async function preview() {
    say("Running the preview…");
    const response = await post(editor.dataset.previewUrl, { rules: collectRules() });
    const html = await response.text();
    const box = document.getElementById("mapping-preview");
    const holder = document.createElement("div");
    holder.innerHTML = html;
    const fresh = holder.querySelector("#mapping-preview");
    if (box && fresh) box.replaceWith(fresh);
    say(response.ok ? "Preview ready." : "Preview failed.", !response.ok);
  }

  function selectSource(item) {
    if (selectedSource) selectedSource.classList.remove("selected");
    selectedSource = item === selectedSource ? null : item;
    if (selectedSource) selectedSource.classList.add("selected");
    editor.classList.toggle("picking", !!selectedSource);
  }

  function mapOnto(targetRow, sourcePath) {
    if (!targetRow || targetRow.classList.contains("branch")) return;
    const cell = setRule(targetRow.dataset.path, "path", sourcePath);
    if (cell) {
      cell.classList.remove("auto-mapped");
      say("Mapped " + sourcePath + " → " + targetRow.dataset.path + " (not saved yet).");
    }
  }

  cells().forEach(refresh);
  if (!canDesign) return;

  // Drag and drop.
  editor.addEventListener("dragstart", (event) => {
    const item = event.target.closest(".source-field");
    if (!item) return;
    event.dataTransfer.setData("text/plain", item.dataset.path);
    event.dataTransfer.effectAllowed = "copy";
  });
  editor.addEventListener("dragover", (event) => {
    const row = event.target.closest(".target-field");
    if (!row || row.classList.contains("branch")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    row.classList.add("drop-hover");
  });
  editor.addEventListener("dragleave", (event) => {
    const row = event.target.closest(".target-field");
    if (row) row.classList.remove("drop-hover");
  });
  editor.addEventListener("drop", (event) => {
    const row = event.target.closest(".target-field");
    if (!row) return;
    event.preventDefault();
    row.classList.remove("drop-hover");
    const path = event.dataTransfer.getData("text/plain");
    if (path) mapOnto(row, path);
  });

  // Click a source, then a target (keyboard: Enter on each).
  editor.addEventListener("click", (event) => {
    const source = event.target.closest(".source-field");
    if (source) return selectSource(source);
    const clear = event.target.closest(".rule-clear");
    if (clear) {
      const cell = clear.closest(".rule");
      setRule(cell.dataset.ruleFor, "", "");
      return;
    }
    const action = event.target.closest("[data-action]");
    if (action) {
      const run = { save: save, automap: automap, preview: preview }[action.dataset.action];
      if (run) run().catch((err) => say(String(err), true));
      return;
    }
    const target = event.target.closest(".target-label");
    if (target && selectedSource) {
      mapOnto(target.closest(".target-field"), selectedSource.dataset.path);
      selectSource(selectedSource);
    }
  });
  editor.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    const source = event.target.closest(".source-field");
    if (source) {
      event.preventDefault();
      selectSource(source);
      return;
    }
    const target = event.target.closest(".target-label");
    if (target && selectedSource) {
      event.preventDefault();
      mapOnto(target.closest(".target-field"), selectedSource.dataset.path);
      selectSource(selectedSource);
    }
  });
  editor.addEventListener("change", (event) => {
    const cell = event.target.closest(".rule");
    if (cell) refresh(cell);
  });
  editor.addEventListener("input", (event) => {
    const cell = event.target.closest(".rule");
    if (cell && event.target.classList.contains("rule-value") && !cell.querySelector(".rule-kind").value) {
      cell.querySelector(".rule-kind").value = "path";
      refresh(cell);
    }
  });

  // Target fields picked from the account (custom fields by name, issue 14): the chosen or
  // typed value goes into the picker's path; a source picked first is mapped onto it.
  editor.querySelectorAll(".target-picker").forEach((form) => {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = form.querySelector("input");
      const value = input.value.trim();
      if (!value) return;
      const path = form.dataset.pathTemplate.split("{value}").join(value);
      const cell = cellFor(path) || addExtraTarget(path);
      if (!cell) return;
      input.value = "";
      if (selectedSource) {
        mapOnto(cell.closest(".target-field"), selectedSource.dataset.path);
        selectSource(selectedSource);
      } else {
        cell.querySelector(".rule-value").focus();
        say("Added " + path + ": map a source field onto it, then save.");
      }
    });
  });

  const addForm = editor.querySelector(".add-target");
  if (addForm) {
    addForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const input = addForm.querySelector("input");
      const path = input.value.trim();
      if (!path) return;
      const cell = cellFor(path) || addExtraTarget(path);
      if (cell) cell.querySelector(".rule-value").focus();
      input.value = "";
    });
  }
})();
