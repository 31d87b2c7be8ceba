// The room terminal's kiosk page: the waiting screen with the next visit's time, the session
// view, the five-face question at the end, and "call the advisor". The room token comes in the
// URL's fragment (never sent to the server's logs) and is kept in the tab only.
import { clock, postJson, text } from "/static/kit.js";
import { SessionClient } from "./session.js";

const root = document.querySelector("[data-terminal]");
const room = { site: root.dataset.site, room: root.dataset.room,
               room_token: new URLSearchParams(window.location.hash.slice(1)).get("token") || "" };
const $ = (selector) => root.querySelector(selector);
const screens = ["waiting", "session", "feedback", "thanks"];
let client = null;
let credential = null;
let sessionId = null;


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
    if (next.session_id && !client) await join(next.session_id);
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
  const joined = await postJson("/api/sessions/terminal/join", { ...room, session_id: id });
  sessionId = joined.session_id;
  credential = joined.credential;
  let localStream = null;
  try { localStream = await media(); } catch (error) { localStream = null; }
  if (localStream) $("[data-self-video]").srcObject = localStream;
  client = new SessionClient({ signalUrl: joined.signal_path, credential, localStream, onEvent, onTrack });
  client.open();
  show("session");
}

function onTrack(peerId, label, track) {
  const video = $("[data-remote-video]");
  if (!video.srcObject) video.srcObject = new MediaStream();
  if (label !== "document") video.srcObject.addTrack(track);
  video.play().catch(() => {});
}

function onEvent(message) {
  if (message.type === "warning") $("[data-warning]").hidden = false;
  if (message.type === "welcome") $("[data-status]").textContent = "";
  if (message.type === "peer" && message.event === "reconnecting") $("[data-status]").textContent = text("sessions.reconnecting");
  if (message.type === "peer" && message.event === "reconnected") $("[data-status]").textContent = "";
  if (message.type === "ended") { show("feedback"); }
}

for (const face of root.querySelectorAll("[data-face]")) {
  face.addEventListener("click", async () => {
    await postJson(`/api/sessions/${sessionId}/feedback`, { credential, score: Number(face.dataset.face) });
    show("thanks");
    client = null;
    setTimeout(() => { $("[data-warning]").hidden = true; show("waiting"); }, 10000);
  });
}
// the customer's open call as the room sees it; the advisor taps "I am here" on arrival
function showCall(state) {
  const note = $("[data-call-status]");
  if (state === "called") note.textContent = text("sessions.called");
  else if (state === "coming") note.textContent = text("sessions.advisor_coming");
  else if (note.textContent === text("sessions.called") || note.textContent === text("sessions.advisor_coming")) note.textContent = "";
  $("[data-arrived]").hidden = !state;
}

$("[data-arrived]").addEventListener("click", async () => {
  try { await postJson("/api/sessions/terminal/arrived", room); showCall(null); }
  catch (error) { $("[data-call-status]").textContent = text("sessions.call_failed"); }
});
for (const button of root.querySelectorAll("[data-call]")) {
  button.addEventListener("click", async () => {
    const note = $("[data-call-status]");
    try { await postJson("/api/sessions/terminal/call", room); note.textContent = text("sessions.called"); poll(); }
    catch (error) { note.textContent = text("sessions.call_failed"); }
  });
}
show("waiting");
poll();
setInterval(poll, 5000);
