// Add and remove technique rows without a round trip. Without JavaScript the same buttons
// submit the form, and the server adds or removes the row without saving anything.
(function () {
  "use strict";
  var form = document.querySelector("[data-visit-form]");
  if (!form) { return; }
  var rows = form.querySelector("[data-entry-rows]");
  var template = form.querySelector("[data-entry-template]");

  function nextIndex() {
    var highest = -1;
    rows.querySelectorAll("[name^='entries-']").forEach(function (input) {
      var index = parseInt(input.name.split("-")[1], 10);
      if (!isNaN(index) && index > highest) { highest = index; }
    });
    return highest + 1;
  }

  // Joint mobilisation, heat and cold have no pressure level: their rows do not ask for one.
  var noPressure = (form.getAttribute("data-no-pressure") || "").split(" ");

  function showPressureFor(row) {
    var technique = row.querySelector("select[name$='-technique']");
    var pressure = row.querySelector("select[name$='-pressure']");
    if (!technique || !pressure) { return; }
    var field = pressure.closest(".field") || pressure;
    var without = noPressure.indexOf(technique.value) !== -1;
    field.hidden = without;
    if (without) { pressure.value = ""; }
  }

  rows.querySelectorAll("[data-entry-row]").forEach(showPressureFor);
  form.addEventListener("change", function (event) {
    if (event.target.matches("select[name$='-technique']")) {
      var row = event.target.closest("[data-entry-row]");
      if (row) { showPressureFor(row); }
    }
  });

  // The error summary above the form lists the rows' problems as "Technique N: Field": a
  // removed row's go with it, and the others follow the rows' new numbers.
  var summary = document.getElementById("form-errors");

  function summaryLinks() {
    return summary ? Array.prototype.slice.call(summary.querySelectorAll("li > a[href^='#']")) : [];
  }

  function forgetErrorsOf(row) {
    summaryLinks().forEach(function (link) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (target && row.contains(target)) { link.parentNode.remove(); }
    });
    if (summary && summaryLinks().length === 0 && !summary.querySelector("p:not(:last-of-type)")) {
      summary.hidden = true;
    }
  }

  function renumberErrors() {
    summaryLinks().forEach(function (link) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      var entry = target && target.closest("[data-entry-row]");
      var title = entry && entry.querySelector(".entry__title");
      if (title) {
        link.textContent = link.textContent.replace(/^Technique \d+:/, title.textContent + ":");
      }
    });
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.hasAttribute("data-add-row")) {
      event.preventDefault();
      var index = String(nextIndex());
      var html = template.innerHTML.split("__index__").join(index);
      rows.insertAdjacentHTML("beforeend", html);
      var added = rows.lastElementChild;
      var title = added.querySelector(".entry__title");
      if (title) { title.textContent = "Technique " + rows.children.length; }
      var first = added.querySelector("select, input");
      if (first) { first.focus(); }
    } else if (button.hasAttribute("data-remove-row")) {
      event.preventDefault();
      var row = button.closest("[data-entry-row]");
      if (row) {
        forgetErrorsOf(row);
        row.remove();
      }
      rows.querySelectorAll(".entry__title").forEach(function (title, position) {
        title.textContent = "Technique " + (position + 1);
      });
      renumberErrors();
    }
  });
})();
