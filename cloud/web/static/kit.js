// The one kit of every page script (docs/decisions.md, "One front-end kit"). Pages are
// server-rendered and work without script; a page's script is an ES module that imports what
// it needs from here:
// - texts: the page's texts, in its language, from the one JSON block the base template
//   renders (<script type="application/json" id="texts">); text(key, values) fills {name}s;
// - clock(instant) and duration(ms, {seconds}): Helsinki time and spans in the page's
//   language (Intl);
// - chime(level): the one sound, once the browser lets audio start (a first gesture);
// - postJson(url, body) and fetchHtml(url): same-origin requests; a refusal is thrown as a
//   Refusal whose message is the page's text for its reason;
// - liveEvents(url, handlers): the server-sent event stream with its watchdog, and
//   linkStatus(state): the one live-connection indicator of every live page;
// - brokerLink(facts): the one banner of the cloud's link to the rooms' broker, which
//   liveEvents keeps as the stream's broker_link events say.

const ZONE = "Europe/Helsinki";
const LOCALES = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" };
const texts = readJson("texts");

/** The page's language (the <html lang> the server rendered). */
export const lang = LOCALES[document.documentElement.lang] ? document.documentElement.lang : "fi";

/** The JSON the server rendered into <script type="application/json" id="...">, or {}. */
export function readJson(id) {
  const block = document.getElementById(id);
  try { return block ? JSON.parse(block.textContent) : {}; } catch (error) { return {}; }
}

/** `template` with each {name} replaced by values[name] (unknown names stay as they are). */
export function fill(template, values = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (values[name] ?? whole));
}

/** Whether the page's texts have `key`. */
export function hasText(key) { return Object.prototype.hasOwnProperty.call(texts, key); }

/** The page's text `key` with its {name}s filled from `values`. */
export function text(key, values) { return hasText(key) ? fill(texts[key], values) : key; }

/** Show the text `key` in `element` (remembered in data-text, so fillTexts can redo it). */
export function setText(element, key, values) {
  element.dataset.text = key;
  element.textContent = text(key, values);
}

/** Fill every [data-text] element under `root` with its text, {name}s from `values`. */
export function fillTexts(root = document, values = {}) {
  for (const element of root.querySelectorAll("[data-text]")) {
    element.textContent = text(element.dataset.text, values);
  }
}

/** A clock time in Helsinki, in the page's language: "09:05" (with seconds: "09:05:30"). */
export function clock(instant, { seconds = false } = {}) {
  const options = { timeZone: ZONE, hour: "2-digit", minute: "2-digit" };
  if (seconds) options.second = "2-digit";
  return new Intl.DateTimeFormat(LOCALES[lang], options).format(instant ? new Date(instant) : new Date());
}

/** A span of time in the page's language: "45 min", "2 h 5 min"; with seconds, under an
 *  hour, counted in whole seconds: "45 s", "3 min 5 s" (a wait shown as it grows). */
export function duration(ms, { seconds = false } = {}) {
  const unit = (value, name) => new Intl.NumberFormat(LOCALES[lang],
    { style: "unit", unit: name, unitDisplay: "short" }).format(value);
  const whole = Math.max(0, Math.floor(ms / 1000));
  if (seconds && whole < 3600) {
    const [m, s] = [Math.floor(whole / 60), whole % 60];
    return m ? `${unit(m, "minute")} ${unit(s, "second")}` : unit(s, "second");
  }
  const minutes = Math.max(0, Math.round(ms / 60000));
  if (minutes < 60) return unit(minutes, "minute");
  const rest = minutes % 60;
  return rest ? `${unit(Math.floor(minutes / 60), "hour")} ${unit(rest, "minute")}` : unit(minutes / 60, "hour");
}

// --- sound --------------------------------------------------------------------------------

let audio = null;
const soundWatchers = new Set();

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) {
    audio = new Context();
    audio.onstatechange = () => soundWatchers.forEach((watch) => watch(soundState()));
  }
  return audio;
}

/** "running" once sound can play, "suspended" before a first gesture, "none" without audio. */
export function soundState() { const context = audioContext(); return context ? context.state : "none"; }

/** Let sound start (call it from a click or key press); `watch(state)` hears each change. */
export function enableSound(watch) {
  if (watch) soundWatchers.add(watch);
  const context = audioContext();
  if (context && context.state !== "running") context.resume().catch(() => {});
  return soundState();
}

/** The one chime: level 1 three beeps, level 2 (urgent) six higher, louder and faster.
 *  Returns whether it sounded (a page shows its banner either way). */
export function chime(level = 1) {
  const context = audioContext();
  if (!context || context.state !== "running") return false;
  const strong = level >= 2, beeps = strong ? 6 : 3, start = context.currentTime + 0.05;
  for (let i = 0; i < beeps; i++) {
    const tone = context.createOscillator(), gain = context.createGain();
    const at = start + i * (strong ? 0.25 : 0.4);
    tone.frequency.value = strong ? 1175 : 880;
    gain.gain.setValueAtTime(0.0001, at);
    gain.gain.exponentialRampToValueAtTime(strong ? 0.5 : 0.3, at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
    tone.connect(gain).connect(context.destination);
    tone.start(at);
    tone.stop(at + 0.2);
  }
  return true;
}

// --- requests -----------------------------------------------------------------------------

/** A refused request: `status`, `problem` (the answer's body: reason, detail, errors...) and a
 *  message in the page's language (the text for the reason, else the answer's detail). */
export class Refusal extends Error {
  constructor(status, problem) {
    const reason = problem.reason || "failed";  // every refusal of the API names its reason
    const detail = typeof problem.detail === "string" ? problem.detail : "";
    super(hasText(`problem.${reason}`) ? text(`problem.${reason}`)
      : (detail || text("problem.failed")));
    this.name = "Refusal";
    this.status = status;
    this.reason = reason;
    this.problem = problem;
  }
}

async function refusalOf(answer) {
  const body = await answer.json().catch(() => ({}));
  const problem = body && typeof body === "object" && !Array.isArray(body) ? body : {};
  // a 422 from before the one shape lists its errors in detail
  if (!problem.errors && Array.isArray(problem.detail)) problem.errors = problem.detail;
  return new Refusal(answer.status, problem);
}

async function send(url, options) {
  try {
    // same-origin only: the browser then names this site in Origin, which the cross-site
    // check of every change asks for, and the session cookie goes along
    return await fetch(url, { mode: "same-origin", credentials: "same-origin", ...options });
  } catch (error) {
    throw new Refusal(0, { reason: "failed", detail: "" });  // no answer: the network
  }
}

/** POST `body` as JSON to `url` (this site); the answer's JSON, or a Refusal thrown. */
export async function postJson(url, body = {}, headers = {}) {
  const answer = await send(url, { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "application/json", ...headers } });
  if (!answer.ok) throw await refusalOf(answer);
  return answer.status === 204 ? {} : answer.json().catch(() => ({}));
}

/** GET a server-rendered page or fragment of this site as text; a Refusal when it is refused
 *  or redirected (to the login: the session ended). */
export async function fetchHtml(url) {
  const answer = await send(url, { headers: { Accept: "text/html" } });
  if (answer.redirected) throw new Refusal(401, {});
  if (!answer.ok) throw await refusalOf(answer);
  return answer.text();
}

// --- the live connection ------------------------------------------------------------------

const indicator = () => document.querySelector("[data-link-status]");

/** How long a live page waits without hearing anything before it reconnects (the server's
 *  keepalive interval twice, rendered on the indicator; 30 s without one). */
export function silenceMs() {
  const shown = indicator();
  return Number(shown && shown.dataset.silenceMs) || 30000;
}

/** Show the live connection's state on the page's indicator: connecting, live, reconnecting. */
export function linkStatus(state) {
  const shown = indicator();
  if (!shown || shown.dataset.state === state) return;
  shown.dataset.state = state;
  shown.textContent = text(`link.${state}`);
}

/** Calls `onSilence` when `heard()` was not called for `ms`; `stop()` ends it. */
export class Watchdog {
  constructor(ms, onSilence) {
    this.ms = ms;
    this.onSilence = onSilence;
    this.timer = null;
    this.heard();
  }

  heard() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onSilence(), this.ms);
  }

  stop() { clearTimeout(this.timer); }
}

/** Show the broker banner (broker-lost.html) as `facts` say: `lost_since`, since when the
 *  ingest has lost the rooms' broker, `replica_lost_since`, since when this server has (each
 *  an instant or null). When they change, a "broker-link" event on the document lets the
 *  page fetch its rooms again (they read "unknown" while the ingest's link is lost). */
export function brokerLink({ lost_since: lost = null, replica_lost_since: replica = null }) {
  const banner = document.querySelector("[data-broker-link]");
  if (!banner || (banner.dataset.lostSince === (lost || "")
      && banner.dataset.replicaLostSince === (replica || ""))) return;
  for (const [part, since] of [["lost", lost], ["replica", replica]]) {
    banner.querySelector(`[data-broker-part="${part}"]`).hidden = !since;
    const shown = banner.querySelector(`[data-broker-time="${part}"]`);
    if (since) setText(shown, `broker.${part === "lost" ? "lost" : "replica_lost"}`, { time: clock(since) });
  }
  banner.dataset.lostSince = lost || "";
  banner.dataset.replicaLostSince = replica || "";
  banner.hidden = !lost && !replica;
  document.dispatchEvent(new CustomEvent("broker-link", { detail: { lost, replica } }));
}

/** The server-sent events of `url` to `handlers` ({name: (data, event) => ...}), shown on the
 *  indicator. Every event and keepalive feeds the watchdog; a silence of silenceMs() says
 *  "reconnecting" and connects again (EventSource alone would wait on a half-open link
 *  forever). The first event after a (re)connect (a `hello`) says "live" again. A
 *  `logged_out` event (the staff session ended) leads to the login page; a `broker_link`
 *  event shows or hides the broker banner (brokerLink). */
export function liveEvents(url, pageHandlers) {
  const handlers = { broker_link: brokerLink, ...pageHandlers };
  let source = null, retryMs = 2000;
  const watchdog = new Watchdog(silenceMs(), () => { linkStatus("reconnecting"); connect(); });

  function heard() {
    watchdog.heard();
    retryMs = 2000;
    linkStatus("live");
  }

  function connect() {
    if (source) source.close();
    source = new EventSource(url);
    source.onerror = () => {
      linkStatus("reconnecting");
      if (source.readyState === EventSource.CLOSED) {  // refused: again, slower each time
        setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    };
    source.addEventListener("keepalive", heard);
    // the staff session behind the stream has ended (logout elsewhere, expiry, a disabled
    // account): stop, and let the login page say so and bring the person back here
    source.addEventListener("logged_out", () => {
      watchdog.stop();
      source.close();
      window.location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    });
    for (const [name, handle] of Object.entries(handlers)) {
      source.addEventListener(name, (event) => { heard(); handle(JSON.parse(event.data), event); });
    }
    watchdog.heard();
  }

  window.addEventListener("offline", () => linkStatus("reconnecting"));
  connect();
  return { close() { watchdog.stop(); if (source) source.close(); } };
}
