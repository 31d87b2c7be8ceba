// The expert's session view: joins with the staff login, shows the room's camera and document
// camera (either as the main view), others' videos, the lobby (a chime and a banner when
// someone waits), the warning before the end, the end and the expert's short feedback form.
import { chime, clock, hasText, postJson, text } from "/static/kit.js";
import { SessionClient } from "./session.js";

const root = document.querySelector("[data-session-view]");
const sessionId = root.dataset.sessionId;
const $ = (selector) => root.querySelector(selector);
const on = (selector, type, handler) => { const el = $(selector); if (el) el.addEventListener(type, handler); };
const guest = root.dataset.mode === "guest";
const status = $("[data-status]");
let client = null;
let credential = null;
const roomStreams = { camera: new MediaStream(), document: new MediaStream() };
let mainIsDocument = false;

function say(text) { status.textContent = text; }

function attach(video, stream) {
  if (video.srcObject !== stream) video.srcObject = stream;
  video.play().catch(() => {});
}

function showRoom() {
  attach($("[data-main-video]"), mainIsDocument ? roomStreams.document : roomStreams.camera);
  attach($("[data-side-video]"), mainIsDocument ? roomStreams.camera : roomStreams.document);
  $("[data-main-label]").textContent = mainIsDocument ? text("sessions.document_camera") : text("sessions.room_camera");
  $("[data-side-label]").textContent = mainIsDocument ? text("sessions.room_camera") : text("sessions.document_camera");
  $("[data-swap]").setAttribute("aria-pressed", String(mainIsDocument));
}

function tileFor(peerId) {
  let tile = root.querySelector(`[data-peer-tile="${peerId}"]`);
  if (!tile) {
    tile = document.createElement("figure");
    tile.dataset.peerTile = peerId;
    tile.className = "session-tile";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = new MediaStream();
    const caption = document.createElement("figcaption");
    tile.append(video, caption);
    $("[data-others]").append(tile);
  }
  return tile;
}

function onTrack(peerId, label, track, peer) {
  if (peer && peer.role === "terminal") {
    const stream = label === "document" ? roomStreams.document : roomStreams.camera;
    stream.getTracks().filter((t) => t.kind === track.kind).forEach((t) => stream.removeTrack(t));
    stream.addTrack(track);
    showRoom();
    return;
  }
  const video = tileFor(peerId).querySelector("video");
  video.srcObject.addTrack(track);
  video.play().catch(() => {});
}

function renderLobby(waiting) {
  const list = $("[data-lobby-list]");
  list.replaceChildren();
  for (const peer of waiting.values()) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.textContent = `${peer.name || text("sessions.someone")} (${text("sessions.assurance")}: ${peer.assurance ? peer.assurance.split("/").pop() : "-"})`;
    const admit = document.createElement("button");
    admit.type = "button";
    admit.className = "button";
    admit.textContent = text("sessions.admit");
    admit.addEventListener("click", () => client.admit(peer.id));
    const deny = document.createElement("button");
    deny.type = "button";
    deny.className = "button button-secondary";
    deny.textContent = text("sessions.deny");
    deny.addEventListener("click", () => client.deny(peer.id));
    item.append(name, " ", admit, " ", deny);
    list.append(item);
  }
  $("[data-lobby]").hidden = waiting.size === 0;
}

// what the room terminal is doing, from the peer events about it
const TERMINAL_STATES = { joined: "joined", reconnected: "joined", reconnecting: "reconnecting",
  left: "not_yet", removed: "not_yet" };

function showTerminal(state) {
  const line = $("[data-terminal-state]");
  if (!line || !state) return;
  line.dataset.terminalState = state;
  line.textContent = text(`sessions.terminal_${state}`);
}

// where the booking's interpreter stands, from the peer events about them (as the server's
// ``interpreter_state`` says it)
function interpreterState(peer) {
  if (peer.state === "waiting") return "waiting";
  if (peer.state === "admitted") return peer.connected ? "joined" : "away";
  return peer.state === "left" ? "away" : "not_yet";
}

function showInterpreter(state) {
  const line = $("[data-interpreter-state]");
  if (!line || !state) return;
  line.dataset.interpreterState = state;
  line.textContent = text(`interpreter.state.${state}`);
}

// the page is out of the meeting: no lobby and no controls are left to press
function closeView(words) {
  say(words);
  if (client) { client.waiting.clear(); renderLobby(client.waiting); }
  $("[data-live]").hidden = true;
  const dialog = $("[data-end-dialog]");
  if (dialog && dialog.open) dialog.close();
}

function onEvent(message) {
  const waiting = client.waiting;
  if (message.type === "welcome") {  // the page's live indicator tells its own reconnecting
    waiting.clear(); // after a reconnect the welcome's lobby is the whole truth
    for (const peer of message.lobby) waiting.set(peer.id, peer);
    renderLobby(waiting);
    if (message.peers.some((peer) => peer.role === "terminal")) showTerminal("joined");
    const interpreter = [...message.peers, ...(message.lobby || [])].find((peer) => peer.interpreter);
    if (interpreter) showInterpreter(interpreterState(interpreter));
    say(message.you.state === "waiting" ? text("sessions.lobby_wait") : text("sessions.connected"));
  } else if (message.type === "peer") {
    // only one still waiting stays in the lobby, whoever decided and on whichever page
    if (message.event === "waiting") { waiting.set(message.peer.id, message.peer); chime(); }
    else if (message.peer.state !== "waiting") waiting.delete(message.peer.id);
    renderLobby(waiting);
    if (message.peer.role === "terminal") showTerminal(TERMINAL_STATES[message.event]);
    if (message.peer.interpreter) showInterpreter(interpreterState(message.peer));
    const tile = root.querySelector(`[data-peer-tile="${message.peer.id}"]`);
    if (message.event === "reconnecting") say(`${roleName(message.peer)}: ${text("sessions.reconnecting")}`);
    if (message.event === "reconnected" || message.event === "joined") say(`${roleName(message.peer)}: ${text("sessions.connected")}`);
    if (tile) tile.querySelector("figcaption").textContent = `${roleName(message.peer)} (${said(message.event)})`;
    if (["left", "removed"].includes(message.event) && tile) tile.remove();
  } else if (message.type === "warning") {
    $("[data-warning]").hidden = false;
  } else if (message.type === "ended") {
    closeView(text("sessions.ended"));
    const form = $("[data-feedback]");
    if (form) { form.hidden = false; form.querySelector("input").focus(); }
  } else if (message.type === "denied" || message.type === "removed") {
    closeView(text("sessions.denied"));
  } else if (message.type === "superseded") {
    closeView(text("sessions.superseded"));
  } else if (message.type === "admitted") {
    say(text("sessions.connected"));
  } else if (message.type === "advisor") {
    showIdentity(message);
  }
}


// the advisor the expert asked to check the customer's identity: coming, then done
function showIdentity(message) {
  const line = $("[data-identity]");
  if (message.event === "coming") line.textContent = text("sessions.identity_coming", { by: message.by || text("sessions.advisor") });
  if (message.event === "timeout") line.textContent = text("sessions.identity_timeout");
  if (message.event === "verified") {
    line.textContent = text("sessions.identity_checked", { by: message.by || text("sessions.advisor"), time: clock(message.at) });
  }
}

async function askIdentity(event) {
  const button = event.target;
  button.disabled = true;
  try {
    const answer = await postJson(`/api/sessions/${sessionId}/identity-check`, {});
    const call = answer.call;
    $("[data-identity]").textContent = answer.asked ? text("sessions.identity_asked")
      : (call.acknowledged_by ? text("sessions.identity_coming", { by: call.acknowledged_by }) : text("sessions.identity_already"));
  } catch (error) {
    $("[data-identity]").textContent = text("sessions.identity_failed");
  } finally {
    button.disabled = false; // asking again while the call is open only says so
  }
}

// a peer's event or role in the page's language (as it came when there is no text for it)
function said(word) { return hasText(`sessions.${word}`) ? text(`sessions.${word}`) : word; }

function roleName(peer) { return peer.name || said(peer.role); }

async function start() {
  say(text("sessions.joining"));
  let localStream = null;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    attach($("[data-self-video]"), localStream);
  } catch (error) {
    say(text("sessions.no_camera"));
  }
  let signalUrl = root.dataset.signalPath;
  credential = root.dataset.credential;
  if (!guest) {
    const joined = await postJson(`/api/sessions/${sessionId}/join`, {});
    credential = joined.credential;
    signalUrl = joined.signal_path;
  }
  client = new SessionClient({ signalUrl, credential, localStream, onEvent, onTrack });
  client.waiting = new Map();
  client.open();
}

on("[data-swap]", "click", () => { mainIsDocument = !mainIsDocument; showRoom(); });
// ending is final for everyone: the expert confirms it in a dialog first
on("[data-end]", "click", () => $("[data-end-dialog]").showModal());
on("[data-end-cancel]", "click", () => $("[data-end-dialog]").close());
on("[data-end-confirm]", "click", async () => {
  $("[data-end-dialog]").close();
  if (client) client.end();
  else {  // not joined: end it all the same
    await postJson(`/api/sessions/${sessionId}/end`, {});
    closeView(text("sessions.ended"));
  }
});
on("[data-ask-identity]", "click", askIdentity);
on("[data-invite]", "click", async () => {
  const invitation = await postJson(`/api/sessions/${sessionId}/invitations`, {});
  const output = $("[data-invite-link]");
  output.value = invitation.url;
  output.hidden = false;
  output.select();
});
on("[data-feedback]", "submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const yes = (name) => (form.get(name) === null ? null : form.get(name) === "yes");
  await postJson(`/api/sessions/${sessionId}/feedback`, { credential, score: Number(form.get("score")),
    media_ok: yes("media_ok"), matter_resolved: yes("matter_resolved") });
  $("[data-feedback]").hidden = true;
  say(text("sessions.thanks"));
});
on("[data-join]", "click", (event) => { event.target.hidden = true; start(); });
$("[data-join]").disabled = false; // usable once it does something: an early tap is not lost
