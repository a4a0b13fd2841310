// django-celery-beat's periodic task form: the crontab's readable translation under its
// field (its inline script, moved here for the Content-Security-Policy).
(function () {
  "use strict";
  var script = document.currentScript;
  var data = document.getElementById("readable-crontabs");
  if (!script || !data || !window.django || !window.django.jQuery) return;
  var $ = window.django.jQuery;
  var readable = JSON.parse(data.textContent);
  var original = script.getAttribute("data-crontab-help") || "";
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var help = $(".field-crontab .help");
    help.text(original);
    help.append("<br>");
    help.append(document.createTextNode("Translation: " + readable[$("#id_crontab").val()]));
  });
})();
