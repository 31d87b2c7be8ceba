// The call-button alerts of the advisor's console: the live event stream (/api/live/events,
// server-sent events on the cookie session) shown as a banner per call naming the room, read
// out by an aria-live announcer, with a sound; "I'll go" takes the call; the other consoles
// show who took it; level 2 alerts louder; a cleared call goes away. The link's state is
// always on screen: live, or lost and reconnecting (EventSource reconnects by itself).
// An expert's request to check the customer's identity rings the same way; whoever took it
// confirms the check from the banner, and the expert's view shows it.
(function () {
  "use strict";
  var root = document.querySelector("[data-call-alerts]");
  if (!root || !window.EventSource) { return; }
  var data = JSON.parse(document.getElementById("call-alerts-data").textContent);
  var T = data.texts;
  var list = document.getElementById("call-list");
  var announcer = document.getElementById("call-announcer");
  var linkStatus = document.getElementById("link-status");
  var soundButton = document.getElementById("enable-sound");
  var calls = {};      // id -> call, as the contract's call JSON
  var mine = remembered();  // ids this console took (kept over a reload of the page)
  var source = null, retryMs = 2000, audio = null;

  function remembered() {
    try { return JSON.parse(window.sessionStorage.getItem("etp-calls-mine") || "{}"); }
    catch (error) { return {}; }
  }

  function remember(id) {
    mine[id] = true;
    try { window.sessionStorage.setItem("etp-calls-mine", JSON.stringify(mine)); }
    catch (error) { /* private mode: kept for this page only */ }
  }

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return values[key] !== undefined ? values[key] : whole;
    });
  }

  function localName(names, fallback) {
    if (!names) { return fallback; }
    if (typeof names === "string") { return names; }
    return names[data.lang] || names.fi || fallback;
  }

  function roomName(call) { return localName(data.rooms[call.site + "/" + call.room], call.room); }
  function siteName(call) { return localName(data.sites[call.site], call.site); }

  function clock(iso) {
    var at = iso ? new Date(iso) : new Date();
    var locale = { fi: "fi-FI", sv: "sv-FI", en: "en-GB" }[data.lang] || "fi-FI";
    return at.toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit",
                                            timeZone: "Europe/Helsinki" });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function announce(text) {
    // a change of the text is what a screen reader reads; clear first so a repeat is read too
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  // --- sound: a short beep made with WebAudio; browsers start it after a first gesture ---

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) {
      audio = new Context();
      audio.onstatechange = showSoundState;
    }
    return audio;
  }

  function showSoundState() {
    var context = audioContext();
    soundButton.hidden = !context || context.state === "running";
    root.setAttribute("data-sound", context ? context.state : "none");
  }

  function enableSound() {
    var context = audioContext();
    if (context && context.state !== "running") { context.resume().then(showSoundState); }
  }

  function ring(strong) {
    var context = audioContext();
    if (!context || context.state !== "running") { showSoundState(); return; }
    var beeps = strong ? 6 : 3, start = context.currentTime + 0.05;
    for (var i = 0; i < beeps; i++) {
      var tone = context.createOscillator(), level = context.createGain();
      var at = start + i * (strong ? 0.25 : 0.4);
      tone.frequency.value = strong ? 1175 : 880;
      level.gain.setValueAtTime(0.0001, at);
      level.gain.exponentialRampToValueAtTime(strong ? 0.5 : 0.3, at + 0.02);
      level.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      tone.connect(level).connect(context.destination);
      tone.start(at);
      tone.stop(at + 0.2);
    }
    root.setAttribute("data-rang", String(Number(root.getAttribute("data-rang") || 0) + 1));
  }

  // --- the banner ---

  function urgent(call) { return call.escalation_level >= 2 && !call.acknowledged_at; }

  function identity(call) { return call.reason === "identity"; }

  function title(call) {
    return fill(identity(call) ? T.identity : T.pressed, { room: roomName(call), site: siteName(call) });
  }

  function takenText(call) {
    return mine[call.id] ? T.taken_by_me : fill(T.taken_by, { by: call.acknowledged_by });
  }

  function show(call) {
    var item = document.getElementById("call-" + call.id);
    if (call.cleared_at) {
      if (item) { item.remove(); }
      delete calls[call.id];
      return;
    }
    calls[call.id] = call;
    if (!item) {
      item = element("li");
      item.id = "call-" + call.id;
      list.appendChild(item);
    }
    item.className = "call" + (urgent(call) ? " call-urgent" : "");
    item.setAttribute("data-room", call.room);
    item.setAttribute("data-level", String(call.escalation_level || 0));
    item.textContent = "";
    item.setAttribute("data-reason", call.reason || "customer");
    item.appendChild(element("p", "call-title", title(call)));
    if (identity(call)) { item.appendChild(element("p", "call-meta", T.identity_why)); }
    item.appendChild(element("p", "call-meta", fill(identity(call) ? T.asked_at : T.since,
                                                     { time: clock(call.pressed_at) })));
    if (urgent(call)) { item.appendChild(element("p", "call-urgency", T.urgent)); }
    if (call.acknowledged_at) {
      item.appendChild(element("p", "call-taken", takenText(call)));
      if (identity(call) && mine[call.id]) {
        var done = element("button", "call-go", T.confirm);
        done.type = "button";
        done.setAttribute("aria-label", fill(T.confirm_named, { room: roomName(call) }));
        done.addEventListener("click", function () { post(call.id, "identity-confirmed", done); });
        item.appendChild(done);
      }
    } else {
      var go = element("button", "call-go", T.go);
      go.type = "button";
      go.setAttribute("aria-label", fill(T.go_named, { room: roomName(call) }));
      go.addEventListener("click", function () { post(call.id, "acknowledge", go); });
      item.appendChild(go);
    }
  }

  function post(id, action, button) {
    button.disabled = true;
    enableSound();
    fetch("/api/calls/" + encodeURIComponent(id) + "/" + action,
          { method: "POST", credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (answer) {
        return answer.json().then(function (body) { return { status: answer.status, body: body }; });
      })
      .then(function (result) {
        if (result.status === 200) {
          if (action === "acknowledge") { remember(id); }
          show(result.body);
        } else if (result.status === 409 && result.body.call) {
          show(result.body.call);
          announce(result.body.detail);
        } else {
          throw new Error("status " + result.status);
        }
      })
      .catch(function () { button.disabled = false; announce(T.failed); });
  }

  // --- the stream ---

  function link(state) {
    linkStatus.setAttribute("data-state", state);
    linkStatus.textContent = T["link_" + state];
  }

  function parsed(event) {
    retryMs = 2000;
    link("live");
    return JSON.parse(event.data);
  }

  function onHello(event) {
    var snapshot = parsed(event).calls || [], seen = {};
    snapshot.forEach(function (call) {
      var fresh = !calls[call.id] && !call.cleared_at;
      seen[call.id] = true;
      show(call);
      if (fresh && !call.acknowledged_at) {
        ring(urgent(call));
        announce(title(call));
      }
    });
    Object.keys(calls).forEach(function (id) {   // gone while the link was down
      if (!seen[id]) { show({ id: id, cleared_at: "gone" }); }
    });
  }

  function onPressed(event) {
    var fact = parsed(event);
    var call = { id: fact.call_id, site: fact.site, room: fact.room, pressed_at: fact.pressed_at,
                 acknowledged_at: null, acknowledged_by: null, escalation_level: 1,
                 cleared_at: null, clear_reason: null, reason: fact.reason || "customer" };
    show(call);
    ring(false);
    announce(title(call));
  }

  function onEscalated(event) {
    var fact = parsed(event), call = calls[fact.call_id];
    if (!call) { return; }
    call.escalation_level = fact.level;
    show(call);
    if (urgent(call)) {
      ring(true);
      announce(T.urgent + ": " + roomName(call));
    }
  }

  function onAcknowledged(event) {
    var fact = parsed(event), call = calls[fact.call_id];
    if (!call) { return; }
    call.acknowledged_at = fact.at;
    call.acknowledged_by = fact.by;
    show(call);
    announce(roomName(call) + ": " + takenText(call));
  }

  function onCleared(event) {
    var fact = parsed(event), call = calls[fact.call_id];
    if (!call) { return; }
    show({ id: call.id, cleared_at: fact.at });
    announce(fill(T.cleared, { room: roomName(call) }));
  }

  function connect() {
    source = new EventSource("/api/live/events");
    source.onopen = function () { link("live"); };
    source.onerror = function () {
      link("lost");
      if (source.readyState === EventSource.CLOSED) {   // refused: try again, slower each time
        window.setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 30000);
      }
    };
    source.addEventListener("hello", onHello);
    source.addEventListener("call.pressed", onPressed);
    source.addEventListener("call.escalated", onEscalated);
    source.addEventListener("call.acknowledged", onAcknowledged);
    source.addEventListener("call.cleared", onCleared);
  }

  soundButton.addEventListener("click", enableSound);
  document.addEventListener("keydown", enableSound, { once: true });
  document.addEventListener("pointerdown", enableSound, { once: true });
  window.addEventListener("offline", function () { link("lost"); });
  showSoundState();
  connect();
})();
