// Behaviour every page shares, kept out of the markup so the Content-Security-Policy can
// forbid inline script (designer/security.py).
(function () {
  "use strict";

  // <form data-confirm="Delete ...?">: ask before submitting (was an inline onsubmit).
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var question = form && form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );

  // A refused save: open the folded section holding the first invalid field and put the
  // focus there (or on the error summary), so the error is seen and announced.
  function focusFirstInvalid(root) {
    if (!root || !root.querySelector) return;
    var field = root.querySelector('[aria-invalid="true"]');
    var target = field || root.querySelector(".error-summary");
    if (!target) return;
    for (var up = target.parentElement; up; up = up.parentElement) {
      if (up.tagName === "DETAILS") up.open = true;
    }
    target.focus();
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status >= 400) focusFirstInvalid(event.detail.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    focusFirstInvalid(document.querySelector("main"));
  });

  // A refused htmx request (403, 404): the server's reason, and a way to see the page as it
  // now is (a role may have changed since it was loaded).
  document.addEventListener("page-alert", function (event) {
    var area = document.getElementById("page-alert");
    var message = event.detail && event.detail.message;
    if (!area || !message) return;
    area.textContent = message + " ";
    var reload = document.createElement("a");
    reload.href = window.location.href;
    reload.textContent = "Reload the page";
    area.appendChild(reload);
    area.hidden = false;
  });
})();
