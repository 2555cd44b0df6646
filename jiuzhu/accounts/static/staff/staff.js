/* Jiuzhu staff pages: the phone menu button. Without this script the menu simply stays open. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  function setUp() {
    var button = document.querySelector(".nav-toggle");
    var nav = document.getElementById("staff-nav");
    if (!button || !nav) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
