// Household form: add and remove member rows of the Django formset (prefix "members") without a reload.
(function () {
  "use strict";
  var rows = document.getElementById("member-rows");
  var template = document.getElementById("member-template");
  var total = document.getElementById("id_members-TOTAL_FORMS");
  if (!rows || !template || !total) return;

  function renumber() {
    var n = 0;
    rows.querySelectorAll("[data-member-row]").forEach(function (row) {
      if (row.hidden) return;
      n += 1;
      var label = row.querySelector("[data-member-index]");
      if (label) label.textContent = n;
    });
  }

  function addRow() {
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    renumber();
    var first = row.querySelector("input[type=text]");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-member]");
    if (add) {
      event.preventDefault();
      addRow();
      return;
    }
    var remove = event.target.closest("[data-remove-member]");
    if (remove) {
      event.preventDefault();
      var visible = rows.querySelectorAll("[data-member-row]:not([hidden])");
      if (visible.length <= 1) {
        window.alert("家庭至少需要一名成员");
        return;
      }
      var row = remove.closest("[data-member-row]");
      var flag = row.querySelector("[data-delete-flag]");
      if (flag) flag.value = "on";
      // Hidden rows stay in the form so the formset indexes do not shift; required inputs are relaxed.
      row.querySelectorAll("[required]").forEach(function (el) { el.removeAttribute("required"); });
      row.hidden = true;
      renumber();
    }
  });

  // Keep a deleted row hidden after a re-render with errors.
  rows.querySelectorAll("[data-delete-flag]").forEach(function (flag) {
    if (flag.value === "on") flag.closest("[data-member-row]").hidden = true;
  });
  renumber();
})();
