// Shared behaviour for every page. 居民身份证 (GB 11643): typing an 18-digit number fills birth date and sex.
(function () {
  "use strict";
  var WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  var CHECK = "10X98765432";
  function parseRic(value) {
    var v = (value || "").trim().toUpperCase();
    if (!/^\d{17}[\dX]$/.test(v)) return null;
    var sum = 0;
    for (var i = 0; i < 17; i++) sum += parseInt(v[i], 10) * WEIGHTS[i];
    if (CHECK[sum % 11] !== v[17]) return { error: "身份证号码校验位错误" };
    var y = v.substr(6, 4), m = v.substr(10, 2), d = v.substr(12, 2);
    var date = new Date(y + "-" + m + "-" + d + "T00:00:00");
    if (isNaN(date.getTime()) || date.getMonth() + 1 !== parseInt(m, 10)) return { error: "身份证号码中的出生日期无效" };
    return { birth: y + "-" + m + "-" + d, sex: parseInt(v[16], 10) % 2 === 1 ? "M" : "F" };
  }
  window.parseRic = parseRic;
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-id-number]")) return;
    var scope = input.closest("[data-person-form]") || document;
    var info = parseRic(input.value);
    var hint = scope.querySelector("[data-id-hint]");
    if (hint) hint.textContent = info && info.error ? info.error : "";
    if (!info || info.error) return;
    var birth = scope.querySelector("[data-birth-date]");
    var sex = scope.querySelector("[data-sex]");
    if (birth) birth.value = info.birth;
    if (sex) sex.value = info.sex;
  });
})();
// Behaviour that would otherwise be inline (the Content-Security-Policy allows scripts from this site's
// files only): a form with data-confirm asks first, a button with data-print prints the page, and an
// element with data-progress="N" is N % wide (set through the CSSOM, which the policy allows).
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
    }
  });
  function showProgress(root) {
    if (root.matches && root.matches("[data-progress]")) root.style.width = root.getAttribute("data-progress") + "%";
    if (root.querySelectorAll) {
      root.querySelectorAll("[data-progress]").forEach(function (el) {
        el.style.width = el.getAttribute("data-progress") + "%";
      });
    }
  }
  showProgress(document);
  document.addEventListener("htmx:load", function (event) { showProgress(event.target); });
})();
