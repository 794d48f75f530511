// The top bar's menu on a phone: one line (the clinic's name and a Menu button), the links and
// the signed-in person behind the button. Without this script the menu simply stays open.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector(".menu-button");
    var header = document.querySelector(".topbar");
    if (!button || !header) {
      return;
    }
    header.classList.add("topbar--folding");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") !== "true";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("topbar--open", open);
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        button.setAttribute("aria-expanded", "false");
        header.classList.remove("topbar--open");
        button.focus();
      }
    });
  });
})();
