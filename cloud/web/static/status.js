// The fleet status page kept current by the live stream (no polling): each room.changed
// fetches that room's card again, and every (re)connect's hello fetches every card, so what
// changed while the link was down shows too. The cards are the server's (status-room.html),
// in the page's language; without script the page is as it was rendered. When the broker
// link changes (kit.js shows the banner), every card is fetched again.
import { clock, fetchHtml, liveEvents, setText } from "/static/kit.js";

const fleet = document.getElementById("fleet");
const updated = document.getElementById("updated");

function stamp() {
  setText(updated, "status.updated", { time: clock(null, { seconds: true }) });
  fleet.dataset.updates = String(Number(fleet.dataset.updates || 0) + 1);
}

async function everyRoom() {
  try {
    fleet.innerHTML = await fetchHtml(fleet.dataset.fleetUrl);
    stamp();
  } catch (refusal) { /* the next hello tries again */ }
}

async function oneRoom({ site, room }) {
  const card = fleet.querySelector(`[data-room="${CSS.escape(`${site}/${room}`)}"]`);
  if (!card) return;  // not a room this reader sees
  try {
    const html = await fetchHtml(`${fleet.dataset.fleetUrl}/${encodeURIComponent(site)}/${encodeURIComponent(room)}`);
    card.outerHTML = html;
    stamp();
  } catch (refusal) { /* the next hello brings it */ }
}

if (fleet && window.EventSource) {
  document.addEventListener("broker-link", everyRoom);  // rooms read "unknown", or again not
  liveEvents("/api/live/events?fleet=true", { hello: everyRoom, "room.changed": oneRoom });
}
