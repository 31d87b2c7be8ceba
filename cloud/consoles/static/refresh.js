// The advisor console's live part (day, rooms, incidents) fetched again every 15 s and put in
// place, unless the advisor is using it (focus inside, a change form open): then next time.
(function () {
  "use strict";
  var region = document.getElementById("live-day");
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  if (!region || !window.fetch) { return; }

  function busy() {
    return region.contains(document.activeElement) || region.querySelector("details[open]");
  }

  function refresh() {
    if (busy() || document.hidden) { return; }
    fetch(region.getAttribute("data-live-url"), { credentials: "same-origin" })
      .then(function (answer) {
        if (answer.redirected || !answer.ok) { throw new Error("status " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        if (!busy() && region.innerHTML !== html) { region.innerHTML = html; }
        region.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () { /* the next round tries again; the link status shows the stream */ });
  }

  window.setInterval(refresh, Number(region.getAttribute("data-refresh-ms")) || 15000);
  document.addEventListener("visibilitychange", refresh);
})();
