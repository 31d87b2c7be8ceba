// The call-button alerts of the advisor's console: the live event stream (/api/live/events,
// server-sent events on the cookie session) shown as a banner per call naming the room, read
// out by an aria-live announcer, with the chime; "I'll go" takes the call; the other consoles
// show who took it; level 2 alerts louder; a cleared call goes away. The link's state is on
// the page's one indicator (kit.js: live, or reconnecting after a loss or a silence).
// An expert's request to check the customer's identity rings the same way; whoever took it
// confirms the check from the banner, and the expert's view shows it.
// Each banner counts how long the customer has waited, by the server's clock (the page says
// what time the server had when it was rendered); while a call is shown the alerts stay on
// screen however far the page is scrolled, and focus and links keep what they reach below
// them (the page's scroll padding is the banner's height).
import { chime, clock, duration, enableSound, lang, liveEvents, postJson, readJson, soundState,
  text } from "/static/kit.js";

const root = document.querySelector("[data-call-alerts]");
const data = readJson("call-alerts-data");
const list = document.getElementById("call-list");
const announcer = document.getElementById("call-announcer");
const soundButton = document.getElementById("enable-sound");
const calls = {};         // id -> call, as the contract's call JSON
const mine = remembered(); // ids this console took (kept over a reload of the page)
const skewMs = data.now ? Date.parse(data.now) - Date.now() : 0;  // server clock - this one

function remembered() {
  try { return JSON.parse(window.sessionStorage.getItem("etp-calls-mine") || "{}"); } catch (error) { return {}; }
}

function remember(id) {
  mine[id] = true;
  try { window.sessionStorage.setItem("etp-calls-mine", JSON.stringify(mine)); } catch (error) { /* this page only */ }
}

function localName(names, fallback) {
  if (!names) return fallback;
  if (typeof names === "string") return names;
  return names[lang] || names.fi || fallback;
}

const roomName = (call) => localName(data.rooms[`${call.site}/${call.room}`], call.room);
const siteName = (call) => localName(data.sites[call.site], call.site);

function element(tag, className, content) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (content !== undefined) node.textContent = content;
  return node;
}

function announce(message) {
  // a change of the text is what a screen reader reads; clear first so a repeat is read too
  announcer.textContent = "";
  setTimeout(() => { announcer.textContent = message; }, 50);
}

// --- sound: the kit's chime, once the browser lets it start (a first gesture) ---

function showSoundState() {
  const state = soundState();
  soundButton.hidden = state === "none" || state === "running";
  root.dataset.sound = state;
}

function ring(strong) {
  if (!chime(strong ? 2 : 1)) { showSoundState(); return; }
  root.dataset.rang = String(Number(root.dataset.rang || 0) + 1);
}

const allowSound = () => enableSound(showSoundState);

// --- the banner ---

const urgent = (call) => call.escalation_level >= 2 && !call.acknowledged_at;
const identity = (call) => call.reason === "identity";
const title = (call) => text(identity(call) ? "callalert.identity" : "callalert.pressed",
                             { room: roomName(call), site: siteName(call) });
const takenText = (call) => (mine[call.id] ? text("callalert.taken_by_me")
  : text("callalert.taken_by", { by: call.acknowledged_by }));

function actionButton(label, named, call, action) {
  const button = element("button", "call-go", text(label));
  button.type = "button";
  button.setAttribute("aria-label", text(named, { room: roomName(call) }));
  button.addEventListener("click", () => post(call.id, action, button));
  return button;
}

function show(call) {
  let item = document.getElementById(`call-${call.id}`);
  if (call.cleared_at) {
    if (item) item.remove();
    delete calls[call.id];
    return;
  }
  calls[call.id] = call;
  if (!item) {
    item = element("li");
    item.id = `call-${call.id}`;
    list.appendChild(item);
  }
  item.className = `call${urgent(call) ? " call-urgent" : ""}`;
  item.dataset.room = call.room;
  item.dataset.level = String(call.escalation_level || 0);
  item.dataset.reason = call.reason || "customer";
  item.textContent = "";
  item.appendChild(element("p", "call-title", title(call)));
  if (identity(call)) item.appendChild(element("p", "call-meta", text("callalert.identity_why")));
  const meta = element("p", "call-meta", `${text(identity(call) ? "callalert.asked_at" : "callalert.since",
                                                   { time: clock(call.pressed_at) })}, `);
  const wait = element("span", "call-wait");
  wait.setAttribute("role", "timer");  // a timer is not read out at each tick
  wait.dataset.since = call.pressed_at;
  meta.appendChild(wait);
  item.appendChild(meta);
  showWait(wait);
  if (urgent(call)) item.appendChild(element("p", "call-urgency", text("callalert.urgent")));
  if (call.acknowledged_at) {
    item.appendChild(element("p", "call-taken", takenText(call)));
    if (identity(call) && mine[call.id]) {
      item.appendChild(actionButton("callalert.confirm", "callalert.confirm_named", call, "identity-confirmed"));
    }
  } else {
    item.appendChild(actionButton("callalert.go", "callalert.go_named", call, "acknowledge"));
  }
}

// --- the wait, and the banner kept on screen ---

function showWait(wait) {
  wait.textContent = text("callalert.waiting",
    { wait: duration(Date.now() + skewMs - Date.parse(wait.dataset.since), { seconds: true }) });
}

function showRinging() {
  const ringing = list.children.length > 0;
  root.toggleAttribute("data-ringing", ringing);
  // what focus or a link scrolls to lands below the banner with its label, not under it
  const height = Math.ceil(root.getBoundingClientRect().height);
  document.documentElement.style.setProperty("--call-alerts-height",
                                             ringing ? `calc(${height}px + 2.5rem)` : "0px");
}

async function post(id, action, button) {
  button.disabled = true;
  allowSound();
  try {
    const call = await postJson(`/api/calls/${encodeURIComponent(id)}/${action}`);
    if (action === "acknowledge") remember(id);
    show(call);
  } catch (refusal) {
    // someone else was first (or the call ended): the call as it now is, told in this
    // page's language
    if (refusal.problem && refusal.problem.call) show(refusal.problem.call);
    else button.disabled = false;
    announce(refusal.status === 409 ? refusal.message : text("callalert.failed"));
    root.dataset.refusal = refusal.message;
  }
}

// --- the stream ---

function onHello({ calls: snapshot = [] }) {
  const seen = {};
  for (const call of snapshot) {
    const fresh = !calls[call.id] && !call.cleared_at;
    seen[call.id] = true;
    show(call);
    if (fresh && !call.acknowledged_at) {
      ring(urgent(call));
      announce(title(call));
    }
  }
  for (const id of Object.keys(calls)) {  // gone while the link was down
    if (!seen[id]) show({ id, cleared_at: "gone" });
  }
}

function onPressed(fact) {
  const call = { id: fact.call_id, site: fact.site, room: fact.room, pressed_at: fact.pressed_at,
                 acknowledged_at: null, acknowledged_by: null, escalation_level: 1,
                 cleared_at: null, clear_reason: null, reason: fact.reason || "customer" };
  show(call);
  ring(false);
  announce(title(call));
}

function onEscalated(fact) {
  const call = calls[fact.call_id];
  if (!call) return;
  call.escalation_level = fact.level;
  show(call);
  if (urgent(call)) {
    ring(true);
    announce(`${text("callalert.urgent")}: ${roomName(call)}`);
  }
}

function onAcknowledged(fact) {
  const call = calls[fact.call_id];
  if (!call) return;
  // this page may know it already (its own tap, or the refusal naming who was first):
  // the event arriving after it must not talk over what was just read out
  const known = Boolean(call.acknowledged_at) && call.acknowledged_by === fact.by;
  call.acknowledged_at = fact.at;
  call.acknowledged_by = fact.by;
  show(call);
  if (!known) announce(`${roomName(call)}: ${takenText(call)}`);
}

function onCleared(fact) {
  const call = calls[fact.call_id];
  if (!call) return;
  show({ id: call.id, cleared_at: fact.at });
  announce(text("callalert.cleared", { room: roomName(call) }));
}

if (root && window.EventSource) {
  setInterval(() => list.querySelectorAll(".call-wait").forEach(showWait), 1000);
  new ResizeObserver(showRinging).observe(root);  // a call shown or gone, a wider banner
  soundButton.addEventListener("click", allowSound);
  document.addEventListener("keydown", allowSound, { once: true });
  document.addEventListener("pointerdown", allowSound, { once: true });
  showSoundState();
  liveEvents("/api/live/events", { hello: onHello, "call.pressed": onPressed,
    "call.escalated": onEscalated, "call.acknowledged": onAcknowledged, "call.cleared": onCleared });
}
