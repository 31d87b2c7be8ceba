// The support console's queue refreshes itself: every data-refresh-seconds it fetches this
// same page and swaps in the new queue, unless focus is inside the queue (a button about to
// be pressed is not pulled away). The page works the same without this script.
(function () {
  "use strict";
  var queue = document.getElementById("queue");
  if (!queue) { return; }
  var seconds = parseFloat(queue.getAttribute("data-refresh-seconds")) || 30;

  function failed() {
    var note = document.getElementById("refreshed");
    if (note) { note.textContent = queue.getAttribute("data-refresh-failed"); note.classList.add("bad"); }
  }

  function refresh() {
    if (queue.contains(document.activeElement)) { return schedule(); }
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (answer) {
        if (!answer.ok || answer.redirected) { throw new Error("status " + answer.status); }
        return answer.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("queue");
        if (!fresh) { throw new Error("no queue in the answer"); }
        queue.innerHTML = fresh.innerHTML;
      })
      .catch(failed)
      .then(schedule);
  }

  function schedule() { window.setTimeout(refresh, seconds * 1000); }

  schedule();
}());
