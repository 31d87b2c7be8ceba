// The browser's side of a video session: the platform's signalling (cloud/sessions/signalling.py)
// and a mesh of RTCPeerConnections. The newcomer offers to the peers listed on "welcome" and
// "admitted"; every offer holds three media lines in the room terminal's order: camera video,
// document-camera video, audio. Candidates trickle. A socket that drops for any other reason
// than the session's or the participant's end comes back by itself, with a growing pause; so
// does one that hears nothing, not even the answer to its pings, for the kit's silence (a
// half-open link), and the page's one live indicator says which.
import { Watchdog, linkStatus, silenceMs } from "/static/kit.js";

const MEDIA_LINES = ["video", "video", "audio"];
// left, ended, superseded by another socket, removed or denied, refused: never come back
const FINAL_CLOSES = new Set([1000, 4000, 4001, 4003, 4403]);
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 8000;

export class SessionClient {
  constructor({ signalUrl, credential, localStream, onEvent, onTrack }) {
    this.signalUrl = signalUrl;
    this.credential = credential;
    this.localStream = localStream || null;
    this.onEvent = onEvent || (() => {});
    this.onTrack = onTrack || (() => {});
    this.connections = new Map();
    this.peers = new Map(); // id -> what the server said of the participant (role, name, state)
    this.iceServers = [];
    this.you = null;
    this.retries = 0;
  }

  open() {
    const url = new URL(this.signalUrl, window.location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    this.socket = socket;
    this.watch(socket);
    socket.addEventListener("open", () => this.send({ type: "hello", credential: this.credential }));
    socket.addEventListener("message", (event) => {
      this.watchdog.heard();
      this.handle(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;  // one given up by the watchdog
      this.unwatch();
      this.closeAll();
      if (FINAL_CLOSES.has(event.code)) {
        this.onEvent({ type: "closed", code: event.code });
        return;
      }
      this.reconnect(event.code);
    });
  }

  // a blip, a replica restarting or a silent link: back in with the same credential, the
  // server tells the others "reconnecting" meanwhile and the welcome brings the peers
  reconnect(code) {
    const delay = Math.min(RETRY_FIRST_MS * 2 ** this.retries, RETRY_MAX_MS);
    this.retries += 1;
    linkStatus("reconnecting");
    this.onEvent({ type: "reconnecting", code, delay_ms: delay });
    setTimeout(() => this.open(), delay);
  }

  // pings keep an idle socket talking; a silence of the kit's length gives it up
  watch(socket) {
    this.unwatch();
    const silence = silenceMs();
    this.watchdog = new Watchdog(silence, () => {
      this.unwatch();
      this.socket = null;
      socket.close();
      this.closeAll();
      this.reconnect(0);
    });
    this.pinger = setInterval(() => this.send({ type: "ping" }), silence / 3);
  }

  unwatch() {
    if (this.watchdog) this.watchdog.stop();
    clearInterval(this.pinger);
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  async handle(message) {
    // who is who first: a track may arrive while this message is still being handled
    for (const peer of [...(message.peers || []), ...(message.lobby || [])]) this.peers.set(peer.id, peer);
    if (message.type === "peer") this.peers.set(message.peer.id, message.peer);
    switch (message.type) {
      case "welcome":
        this.retries = 0;
        linkStatus("live");
        this.you = message.you;
        this.iceServers = message.ice_servers;
        if (this.you.state === "admitted") await this.offerTo(message.peers);
        break;
      case "admitted":
        await this.offerTo(message.peers);
        break;
      case "offer":
        await this.answer(message.from, message.sdp);
        break;
      case "answer": {
        const pc = this.connections.get(message.from);
        if (pc) await pc.setRemoteDescription({ type: "answer", sdp: message.sdp });
        break;
      }
      case "candidate": {
        const pc = this.connections.get(message.from);
        if (pc && message.candidate) {
          await pc.addIceCandidate({ candidate: message.candidate, sdpMid: message.sdpMid,
                                     sdpMLineIndex: message.sdpMLineIndex }).catch(() => {});
        }
        break;
      }
      case "peer":
        if (["left", "removed", "denied"].includes(message.event)) this.closePeer(message.peer.id);
        break;
      default:
        break;
    }
    this.onEvent(message);
  }

  localTracks(kind) {
    return this.localStream ? this.localStream.getTracks().filter((t) => t.kind === kind) : [];
  }

  newConnection(peerId) {
    this.closePeer(peerId);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.connections.set(peerId, pc);
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate) {
        this.send({ type: "candidate", to: peerId, candidate: event.candidate.candidate,
                    sdpMid: event.candidate.sdpMid, sdpMLineIndex: event.candidate.sdpMLineIndex });
      }
    });
    pc.addEventListener("track", (event) => {
      const videos = pc.getTransceivers().filter((t) => t.receiver.track.kind === "video");
      const index = videos.indexOf(event.transceiver);
      const label = event.track.kind === "audio" ? "audio" : (index === 1 ? "document" : "camera");
      this.onTrack(peerId, label, event.track, this.peers.get(peerId));
    });
    pc.addEventListener("connectionstatechange", () => {
      this.onEvent({ type: "media", peer: peerId, state: pc.connectionState });
    });
    return pc;
  }

  async offerTo(peers) {
    for (const peer of peers) {
      const pc = this.newConnection(peer.id);
      const own = { video: this.localTracks("video"), audio: this.localTracks("audio") };
      for (const kind of MEDIA_LINES) {
        const track = own[kind].shift();
        if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [this.localStream] });
        else pc.addTransceiver(kind, { direction: "recvonly" });
      }
      await pc.setLocalDescription(await pc.createOffer());
      this.send({ type: "offer", to: peer.id, sdp: pc.localDescription.sdp });
    }
  }

  async answer(peerId, sdp) {
    const pc = this.newConnection(peerId);
    await pc.setRemoteDescription({ type: "offer", sdp });
    const own = { video: this.localTracks("video"), audio: this.localTracks("audio") };
    for (const transceiver of pc.getTransceivers()) {
      const track = own[transceiver.receiver.track.kind].shift();
      if (track) {
        await transceiver.sender.replaceTrack(track);
        transceiver.direction = "sendrecv";
      }
    }
    await pc.setLocalDescription(await pc.createAnswer());
    this.send({ type: "answer", to: peerId, sdp: pc.localDescription.sdp });
  }

  closePeer(peerId) {
    const pc = this.connections.get(peerId);
    if (pc) pc.close();
    this.connections.delete(peerId);
  }

  closeAll() {
    for (const peerId of [...this.connections.keys()]) this.closePeer(peerId);
  }

  admit(id) { this.send({ type: "admit", participant: id }); }
  deny(id) { this.send({ type: "deny", participant: id }); }
  remove(id) { this.send({ type: "remove", participant: id }); }
  end() { this.send({ type: "end" }); }
  leave() { this.send({ type: "leave" }); }
}
