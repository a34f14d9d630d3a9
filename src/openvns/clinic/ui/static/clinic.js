// OpenVNS clinic: show htmx failures that have no page of their own (403, 404, 500, no network);
// print buttons. Everything here is in this file because the CSP allows no inline script.
(function () {
  "use strict";
  function say(message) {
    var box = document.getElementById("flashes");
    if (!box) { return; }
    var div = document.createElement("div");
    div.className = "flash error";
    div.setAttribute("role", "alert");
    div.textContent = message;
    box.appendChild(div);
  }
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : 0;
    var what = status === 403 ? "You may not do this, or the page is stale"
      : status === 404 ? "This no longer exists, or is not yours to see"
      : "The request failed";
    say(what + " (HTTP " + status + "). Reload the page and try again.");
  });
  document.addEventListener("htmx:sendError", function () {
    say("The clinic server cannot be reached. Check the connection and try again.");
  });
  // Buttons marked data-print print the page (no inline onclick: the CSP forbids it).
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) { window.print(); }
  });
})();
