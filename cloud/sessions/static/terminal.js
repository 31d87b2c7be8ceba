// The room terminal's kiosk page: the waiting screen with the next visit's time, the session
// view, the five-face question at the end, and "call the advisor". The room token comes in the
// URL's fragment (never sent to the server's logs) and is kept in the tab only: the language
// links carry it on, and the tab's sessionStorage keeps an unanswered five-face question across
// a language switch. The faces give way to the waiting screen by themselves (the page's
// data-feedback-ms), and the next session is joined whether or not anyone answered.
import { clock, postJson, setText, text } from "/static/kit.js";
import { SessionClient } from "./session.js";

const root = document.querySelector("[data-terminal]");
const room = { site: root.dataset.site, room: root.dataset.room,
               room_token: new URLSearchParams(window.location.hash.slice(1)).get("token") || "" };
const $ = (selector) => root.querySelector(selector);
const screens = ["waiting", "session", "feedback", "thanks"];
const FEEDBACK_MS = Number(root.dataset.feedbackMs) || 60000;
const THANKS_MS = 10000;
const SUPERSEDED = 4001;  // another terminal took the room's place in the session
const KEPT = `terminal:${room.site}/${room.room}`;
let client = null;
let joining = false;
let sessionId = null;
let credential = null;
let localStream = null;
let answer = null;     // the ended session the faces answer: { session, credential, until }
let givenAway = null;  // a session another terminal took: this one does not take it back
let lapse = null;
const tile = { note: $("[data-tile-note]"), video: $("[data-remote-video]"), tracks: new Map() };


function show(name) {
  for (const screen of screens) $(`[data-screen="${screen}"]`).hidden = screen !== name;
  const heading = $(`[data-screen="${name}"] h1, [data-screen="${name}"] h2`);
  if (heading) heading.focus();
}

async function poll() {
  try {
    const next = await postJson("/api/sessions/terminal/next", room);
    $("[data-next-visit]").textContent = next.next_visit ? `${text("sessions.next_visit")} ${clock(next.next_visit)}` : text("sessions.no_visit");
    showCall(next.call);
    if (next.session_id && !client && !joining && next.session_id !== givenAway) await join(next.session_id);
  } catch (error) {
    $("[data-next-visit]").textContent = text("sessions.offline");
  }
}

async function media() {
  // the camera, then the document camera (the second video device when there is one), audio
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  const camera = await navigator.mediaDevices.getUserMedia({ audio: true,
    video: devices[0] ? { deviceId: devices[0].deviceId } : true });
  const documentCamera = await navigator.mediaDevices.getUserMedia({
    video: devices[1] ? { deviceId: devices[1].deviceId } : true });
  return new MediaStream([camera.getVideoTracks()[0], documentCamera.getVideoTracks()[0],
                          ...camera.getAudioTracks()]);
}

async function join(id) {
  joining = true;
  try {
    const joined = await postJson("/api/sessions/terminal/join", { ...room, session_id: id });
    sessionId = joined.session_id;
    credential = joined.credential;
    try { localStream = await media(); } catch (error) { localStream = null; }
    if (localStream) $("[data-self-video]").srcObject = localStream;
    tileSays("sessions.expert_joins_soon");
    const session = new SessionClient({ signalUrl: joined.signal_path, credential, localStream,
      onEvent: (message) => onEvent(session, message), onTrack });
    client = session;
    client.open();
    endQuestion();  // the last visit's faces give way to this one
    show("session");
  } finally {
    joining = false;
  }
}

// leave the session's media: the camera's light goes off, the expert's picture goes
function leave() {
  client = null;
  if (localStream) localStream.getTracks().forEach((track) => track.stop());
  localStream = null;
  $("[data-self-video]").srcObject = null;
  tile.tracks.clear();
  tile.video.srcObject = null;
}

// --- the expert's tile: the expert's picture and sound, or words for what is happening ------

function tileSays(key) {
  if (key) setText(tile.note, key);
  tile.note.hidden = !key;
}

function onTrack(peerId, label, track, peer) {
  if (label === "document") return;
  tile.tracks.set(`${peerId}/${label}`, { track, expert: peer && peer.role === "expert" });
  track.addEventListener("ended", () => tile.tracks.delete(`${peerId}/${label}`));
  const all = [...tile.tracks.values()];
  const camera = all.find((t) => t.expert && t.track.kind === "video") || all.find((t) => t.track.kind === "video");
  tile.video.srcObject = new MediaStream([camera, ...all.filter((t) => t.track.kind === "audio")]
    .filter(Boolean).map((t) => t.track));
  tile.video.play().catch(() => {});
}
tile.video.addEventListener("playing", () => tileSays(null));

function isExpert(peer) { return Boolean(peer) && peer.role === "expert"; }

function onEvent(session, message) {
  if (session !== client) return;  // a session this page has left
  if (message.type === "warning") $("[data-warning]").hidden = false;
  if (message.type === "reconnecting") tileSays("sessions.expert_reconnecting");
  if (message.type === "welcome" && !message.peers.some(isExpert)) tileSays("sessions.expert_joins_soon");
  if (message.type === "peer" && isExpert(message.peer)) {
    if (message.event === "reconnecting") tileSays("sessions.expert_reconnecting");
    if (message.event === "left") tileSays("sessions.expert_joins_soon");
  }
  if (message.type === "media" && isExpert(session.peers.get(message.peer))
      && ["disconnected", "failed"].includes(message.state)) tileSays("sessions.expert_reconnecting");
  if (message.type === "ended") {
    leave();
    askFeedback({ session: sessionId, credential, until: Date.now() + FEEDBACK_MS });
  }
  if (message.type === "closed") {
    if (message.code === SUPERSEDED) givenAway = sessionId;
    leave();
    show("waiting");
  }
}

// --- the five faces ---------------------------------------------------------------------------

function keep() {
  try { sessionStorage.setItem(KEPT, JSON.stringify(answer || {})); } catch (error) { /* private mode */ }
}

function kept() {
  try { return JSON.parse(sessionStorage.getItem(KEPT)) || {}; } catch (error) { return {}; }
}

function later(then, ms) {
  clearTimeout(lapse);
  lapse = setTimeout(then, Math.max(0, ms));
}

function askFeedback(visit) {
  answer = visit;
  keep();
  show("feedback");
  later(idle, visit.until - Date.now());
}

function endQuestion() {
  clearTimeout(lapse);
  answer = null;
  keep();
}

function idle() {
  endQuestion();
  $("[data-warning]").hidden = true;
  show("waiting");
}

for (const face of root.querySelectorAll("[data-face]")) {
  face.addEventListener("click", async () => {
    const visit = answer;
    if (!visit) return;
    endQuestion();
    try {
      await postJson(`/api/sessions/${visit.session}/feedback`, { credential: visit.credential, score: Number(face.dataset.face) });
    } catch (error) { /* the citizen did their part: thank them all the same */ }
    show("thanks");
    later(idle, THANKS_MS);
  });
}

// --- the advisor ----------------------------------------------------------------------------

// the customer's open call as the room sees it; the advisor taps "I am here" on arrival. A
// press's own "called" stays while the consoles are still hearing of it.
const PRESS_SETTLES_MS = 15000;
let pressedAt = 0;

function showCall(state) {
  const note = $("[data-call-status]");
  const said = [text("sessions.called"), text("sessions.advisor_coming")].includes(note.textContent);
  if (state === "called") note.textContent = text("sessions.called");
  else if (state === "coming") note.textContent = text("sessions.advisor_coming");
  else if (said && Date.now() - pressedAt > PRESS_SETTLES_MS) note.textContent = "";
  $("[data-arrived]").hidden = !state;
}

$("[data-arrived]").addEventListener("click", async () => {
  try { await postJson("/api/sessions/terminal/arrived", room); showCall(null); }
  catch (error) { $("[data-call-status]").textContent = text("sessions.call_failed"); }
});
for (const button of root.querySelectorAll("[data-call]")) {
  button.addEventListener("click", async () => {
    const note = $("[data-call-status]");
    try {
      await postJson("/api/sessions/terminal/call", room);
      pressedAt = Date.now();
      note.textContent = text("sessions.called");
      poll();
    }
    catch (error) { note.textContent = text("sessions.call_failed"); }
  });
}

// the language links keep the room's token (the fragment never reaches the server)
for (const link of document.querySelectorAll("a[hreflang]")) {
  link.hash = new URLSearchParams({ token: room.room_token }).toString();
}
const before = kept();
if (before.until > Date.now()) askFeedback(before);
else show("waiting");
poll();
setInterval(poll, 5000);
