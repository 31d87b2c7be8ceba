// The fleet at a glance. Staff log in here; the session cookie (HttpOnly) carries the login,
// so no token ever appears in the address or in the page's storage.
const text = (tag, value, cls) => { const e = document.createElement(tag); e.textContent = value; if (cls) e.className = cls; return e; };
const show = (id, visible) => { document.getElementById(id).hidden = !visible; };
let timer = null;

function roomCard(site, room) {
  const card = document.createElement("section");
  card.className = "room " + room.condition;
  card.dataset.room = site.site + "/" + room.room;
  card.append(text("h2", `${site.name.fi} – ${room.room}`));
  const agent = room.agent ? (room.agent.online ? "online" : "offline") : "unknown";
  card.append(text("div", room.condition, "cond"), text("div", `agent: ${agent}`, "agent"));
  const table = document.createElement("table");
  for (const d of room.devices) {
    const row = table.insertRow();
    row.dataset.device = d.device;
    row.insertCell().textContent = d.device;
    const cell = row.insertCell(); cell.textContent = (d.state || "–") + (d.code ? ` (${d.code})` : "");
    cell.className = "s-" + (d.state || "none");
  }
  card.append(table);
  return card;
}

function askLogin() {
  clearInterval(timer); timer = null;
  show("fleet", false); show("login", true);
  document.getElementById("username").focus();
}

async function refresh() {
  try {
    const response = await fetch("/api/fleet");
    if (response.status === 401) return askLogin();
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}`);
    const fleet = await response.json();
    show("login", false); show("fleet", true);
    const root = document.getElementById("sites");
    root.replaceChildren(...fleet.sites.flatMap(site => site.rooms.map(room => roomCard(site, room))));
    document.getElementById("updated").textContent = "päivitetty / updated " + new Date().toLocaleTimeString("fi-FI");
    document.getElementById("error").textContent = "";
    if (timer === null) timer = setInterval(refresh, 1000);
  } catch (err) {
    document.getElementById("error").textContent = "Tila ei päivity / status not updating: " + err.message;
  }
}

async function logIn(event) {
  event.preventDefault();
  const body = { username: document.getElementById("username").value,
                 password: document.getElementById("password").value };
  const response = await fetch("/api/accounts/login", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) {
    const answer = await response.json().catch(() => ({}));
    document.getElementById("login-error").textContent =
      typeof answer.detail === "string" ? answer.detail : "Kirjautuminen epäonnistui / login failed";
    return;
  }
  document.getElementById("password").value = "";
  document.getElementById("login-error").textContent = "";
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login").addEventListener("submit", logIn);
  refresh();
});
