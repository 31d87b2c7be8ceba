// The support console's queue refreshes itself: every data-refresh-seconds it fetches this
// same page and swaps in the new queue, unless focus is inside the queue (a button about to
// be pressed is not pulled away). The page works the same without this script.
import { fetchHtml, setText } from "/static/kit.js";

const queue = document.getElementById("queue");
const seconds = queue ? parseFloat(queue.dataset.refreshSeconds) || 30 : 0;

function failed() {
  const note = document.getElementById("refreshed");
  if (note) { setText(note, "incidents.refresh_failed"); note.classList.add("bad"); }
}

async function refresh() {
  if (!queue.contains(document.activeElement)) {
    try {
      const page = new DOMParser().parseFromString(await fetchHtml(window.location.href), "text/html");
      const fresh = page.getElementById("queue");
      if (!fresh) throw new Error("no queue in the answer");
      queue.innerHTML = fresh.innerHTML;
    } catch (error) {
      failed();
    }
  }
  setTimeout(refresh, seconds * 1000);
}

if (queue) setTimeout(refresh, seconds * 1000);
