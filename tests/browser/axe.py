"""axe-core in every browser test: each page state a test reaches is checked against WCAG 2.1
A and AA, and a violation fails the test (issue 16.10).

``AxeWatch.install(context, origin)`` loads the vendored axe-core (tests/browser/vendor/, from
the npm registry, MPL-2.0) into every page of the context. On our own origin a small runner
checks the page after it loads, after every htmx swap settles and whenever a ``<details>`` or
``<dialog>`` opens (debounced), and reports through an exposed binding. Before the context
closes, ``finish(page)`` checks the final state too. A violation counts only if a second check
a moment later still finds it: the page can change under a running check.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
AXE_JS = Path(__file__).parent / "vendor" / f"axe-core-{AXE_VERSION}.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUNNER = """
(() => {
  if (window.top !== window || location.origin !== %(origin)s || !window.axe) return;
  const options = {runOnly: {type: "tag", values: %(tags)s}, resultTypes: ["violations"]};
  const key = (v, n) => v.id + " " + n.target.join(" ");
  let timer = null;
  let running = null;
  let again = false;

  async function violations() {
    const first = await axe.run(document, options);
    if (!first.violations.length) return [];
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await axe.run(document, options);
    const seen = new Set(first.violations.flatMap((v) => v.nodes.map((n) => key(v, n))));
    return second.violations
      .map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.filter((n) => seen.has(key(v, n))).slice(0, 6)
          .map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 160),
                        summary: n.failureSummary})),
      }))
      .filter((v) => v.nodes.length);
  }

  async function check() {
    if (running) { again = true; return running; }
    running = (async () => {
      try {
        const found = await violations();
        const report = {url: location.href, violations: found};
        if (found.length) window.__axeReport(JSON.stringify(report));
      } catch (error) {
        /* the page went away mid-check */
      }
    })();
    await running;
    running = null;
    if (again) { again = false; schedule(); }
  }

  // Debounced, and at most one check a second: a page that polls (a running run's progress)
  // must not keep the machine's two cores busy with checks.
  let lastStart = 0;
  function schedule() {
    clearTimeout(timer);
    const wait = Math.max(200, lastStart + 1000 - Date.now());
    timer = setTimeout(() => { lastStart = Date.now(); check(); }, wait);
  }

  // The final state, checked before the test's context closes.
  window.__axeFinish = async () => {
    clearTimeout(timer);
    while (running) await running;
    await check();
  };
  if (document.readyState === "complete") schedule();
  else window.addEventListener("load", schedule);
  document.addEventListener("htmx:afterSettle", schedule);
  document.addEventListener("toggle", schedule, true);
  document.addEventListener("close", schedule, true);
})();
"""


def check_now(page: Any) -> None:
    """Check the page's current state before moving on (a test that only passes through a
    page, e.g. a tour, would otherwise leave before the debounced check ran)."""
    page.evaluate("() => window.__axeFinish && window.__axeFinish()")


@dataclass
class AxeWatch:
    reports: list[dict[str, Any]] = field(default_factory=list)

    def install(self, context: Any, origin: str) -> None:
        context.add_init_script(path=str(AXE_JS))
        context.add_init_script(script=RUNNER % {"origin": json.dumps(origin), "tags": TAGS})
        context.expose_binding("__axeReport", self._report)

    def watch(self, page: Any) -> None:
        """Check the state a test leaves with ``page.goto``: a test that opens a page,
        looks and moves on would otherwise leave before the debounced check ran."""
        goto = page.goto

        def checked_goto(*args: Any, **kwargs: Any) -> Any:
            self.finish(page)
            return goto(*args, **kwargs)

        page.goto = checked_goto

    def _report(self, source: Any, payload: str) -> None:
        self.reports.append(json.loads(payload))

    def finish(self, page: Any) -> None:
        # A page closed or mid-navigation: its earlier states were checked as they came.
        with contextlib.suppress(Exception):
            page.evaluate("() => window.__axeFinish && window.__axeFinish()")

    def failure(self) -> str | None:
        """A readable report of every distinct violation, or None."""
        seen: set[tuple[str, str, str]] = set()
        lines: list[str] = []
        for report in self.reports:
            for violation in report["violations"]:
                for node in violation["nodes"]:
                    key = (report["url"].split("?")[0], violation["id"], node["target"])
                    if key in seen:
                        continue
                    seen.add(key)
                    lines.append(
                        f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
                        f"  at {report['url']}\n  {node['target']}: {node['html']}\n"
                        f"  {node['summary']}"
                    )
        if not lines:
            return None
        return "axe-core found accessibility violations (WCAG 2.1 AA):\n" + "\n".join(lines)
