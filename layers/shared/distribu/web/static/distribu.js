// Small progressive enhancements (no inline scripts: the CSP forbids them). Every page works without this.
(function () {
  "use strict";

  // <form data-confirm="Delete this product?">: ask first.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // htmx: honour data-confirm on hx-posting forms as well.
  document.addEventListener("htmx:confirm", function (event) {
    var element = event.detail.elt;
    var question = element.closest && element.closest("[data-confirm]");
    if (question && !window.confirm(question.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // <button data-copy="#id">: copy an element's text (API keys, webhook secrets shown once).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Steppers: [data-step="-1"|"1"] buttons next to a number input, clamped to its min and max.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-step]");
    if (!button) { return; }
    var input = button.parentElement.querySelector("input[type=number]");
    if (!input) { return; }
    event.preventDefault();
    var step = parseInt(button.getAttribute("data-step"), 10);
    var value = (parseInt(input.value, 10) || 0) + step;
    var min = input.hasAttribute("min") ? parseInt(input.min, 10) : 0;
    var max = input.hasAttribute("max") ? parseInt(input.max, 10) : Infinity;
    input.value = Math.max(min, Math.min(max, value));
    input.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // Image inputs with data-preview="#img": show the chosen file before it is saved.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-preview]")) { return; }
    var preview = document.querySelector(input.getAttribute("data-preview"));
    if (!preview || !input.files || !input.files[0]) { return; }
    preview.src = URL.createObjectURL(input.files[0]);
    preview.classList.remove("hidden");
  });

  // --- scheduled reports: <div data-show-when="cadence=WEEKLY"> shows only while the form's "cadence" field
  // has that value (the fields a cadence or a report type does not use stay out of the way).
  function showWhen(form) {
    var parts = form.querySelectorAll("[data-show-when]");
    for (var i = 0; i < parts.length; i++) {
      var rule = parts[i].getAttribute("data-show-when").split("=");
      var field = form.elements[rule[0]];
      parts[i].hidden = !!field && field.value !== rule[1];
    }
  }
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.form.querySelector("[data-show-when]")) { showWhen(event.target.form); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].querySelector("[data-show-when]")) { showWhen(forms[i]); }
    }
  });
})();

// --- dashboard inventory: <input type="checkbox" data-select-all="productId"> ticks every box of that name
// in its form (the bulk stock action's rows); it follows the rows when they are ticked one by one.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox]") || !box.form) { return; }
    var all = box.getAttribute("data-select-all");
    if (all) {
      box.form.querySelectorAll("input[type=checkbox][name='" + all + "']").forEach(function (row) {
        row.checked = box.checked;
      });
      return;
    }
    var master = box.form.querySelector("input[data-select-all='" + box.name + "']");
    if (master) {
      var rows = box.form.querySelectorAll("input[type=checkbox][name='" + box.name + "']");
      master.checked = Array.prototype.every.call(rows, function (row) { return row.checked; });
    }
  });
})();
