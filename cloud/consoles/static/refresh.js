// The console's live part (day, rooms, incidents) fetched again every 15 s and put in place,
// unless the person is using it (focus inside, a change form open): then next time. At
// once when the broker link changes (the rooms read "unknown" while the ingest has lost it;
// the advisor's stream in alerts.js hears it and kit.js shows the banner).
import { fetchHtml } from "/static/kit.js";

const region = document.getElementById("live-day");
const summary = document.querySelector(".error-summary");
if (summary) summary.focus();

const busy = () => region.contains(document.activeElement) || region.querySelector("details[open]");

async function refresh() {
  if (busy() || document.hidden) return;
  try {
    const html = await fetchHtml(region.dataset.liveUrl);
    if (!busy() && region.innerHTML !== html) region.innerHTML = html;
    region.dataset.refreshed = String(Date.now());
  } catch (refusal) {
    // the next round tries again; the link status shows the stream
  }
}

if (region) {
  setInterval(refresh, Number(region.dataset.refreshMs) || 15000);
  document.addEventListener("visibilitychange", refresh);
  document.addEventListener("broker-link", refresh);
}
