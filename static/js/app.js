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
})();
