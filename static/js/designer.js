// The designer page's small behaviours: palette tabs and search-as-you-type.
(function () {
  "use strict";

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

  function initSearch(root) {
    const box = root.querySelector(".palette-search");
    if (!box) return;
    box.addEventListener("input", () => {
      const needle = box.value.trim().toLowerCase();
      root.querySelectorAll("[data-search]").forEach((item) => {
        const own = item.dataset.search.includes(needle);
        const child = Array.from(item.querySelectorAll("[data-search]")).some((c) =>
          c.dataset.search.includes(needle),
        );
        item.hidden = needle !== "" && !own && !child;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const palette = document.querySelector(".palette");
    if (palette) {
      initTabs(palette);
      initSearch(palette);
    }
  });
})();
