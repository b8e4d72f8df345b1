// django-celery-beat's periodic task form: show the chosen crontab in words under the field (the package
// does this in an inline script, which the Content-Security-Policy refuses).
(function () {
  "use strict";
  var $ = window.django && window.django.jQuery;
  var script = document.getElementById("periodic-task-overrides");
  var data = document.getElementById("readable-crontabs");
  if (!$ || !script || !data) return;
  var readable = JSON.parse(data.textContent);
  var help = script.getAttribute("data-crontab-help") || "";
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var box = $(".field-crontab .help");
    box.text(help);
    box.append($("<br>"), document.createTextNode("Translation: " + (readable[$("#id_crontab").val()] || "")));
  });
})();
