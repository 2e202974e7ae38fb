// One room's WebSocket (docs/protocol.md). It reconnects with backoff and resumes after the
// last seq it has seen, so the page misses nothing and shows nothing twice.
import { closeWords } from "./words.js";

const CONNECT_TIMEOUT_MS = 10000;  // a handshake that hangs this long is a dead network, not a slow one
const MAX_DELAY_MS = 15000;

export class ChatSocket {
  /** `on` receives: status({state, text, final}), hello, message, ack, deleted, room, presence,
   *  typing, memberUpdated, memberLeft, error, truncated, resumed. */
  constructor({ path, lastSeq, on }) {
    this.path = path;
    this.lastSeq = lastSeq;
    this.on = on;
    this.ws = null;
    this.attempt = 0;
    this.retryTimer = null;
    this.final = false;
    // The browser knows first when the network goes: don't wait for a TCP timeout.
    addEventListener("offline", () => this.ws?.close());
    addEventListener("online", () => this.reconnectNow());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && this.retryTimer) this.reconnectNow();
    });
  }

  connect() {
    if (this.final) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.on.status({ state: "connecting", text: this.attempt ? "Reconnecting…" : "Connecting…" });
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // after_seq in the handshake: the server replays what we missed before any live message.
    const ws = new WebSocket(`${scheme}://${location.host}${this.path}?after_seq=${this.lastSeq}`);
    this.ws = ws;
    const timeout = setTimeout(() => ws.close(), CONNECT_TIMEOUT_MS);
    ws.addEventListener("open", () => clearTimeout(timeout));
    ws.addEventListener("message", (event) => { if (ws === this.ws) this.dispatch(JSON.parse(event.data)); });
    ws.addEventListener("close", (event) => {
      clearTimeout(timeout);
      if (ws === this.ws) this.closed(event);
    });
  }

  reconnectNow() {
    if (this.final || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    this.connect();
  }

  dispatch(frame) {
    switch (frame.type) {
      case "hello":
        this.on.status({ state: "syncing", text: "Connected" });
        this.on.hello(frame);
        break;
      case "message.new":
        // Only message.new moves lastSeq: frames arrive in seq order, acks may run ahead of a gap.
        if (frame.message.seq > this.lastSeq) this.lastSeq = frame.message.seq;
        this.on.message(frame.message);
        break;
      case "resume.truncated":
        this.on.truncated(frame);
        break;
      case "resume.done":
        this.attempt = 0;  // this connection works: the next drop starts the backoff afresh
        this.on.status({ state: "live", text: "Connected" });
        this.on.resumed(frame);
        break;
      case "message.ack": this.on.ack(frame); break;
      case "message.deleted": this.on.deleted(frame); break;
      case "room.updated": this.on.room(frame.room); break;
      case "presence": this.on.presence(frame.online); break;
      case "typing": this.on.typing(frame); break;
      case "member.updated": this.on.memberUpdated(frame.member); break;
      case "member.left": this.on.memberLeft(frame.user); break;
      case "error": this.on.error(frame); break;
    }
  }

  closed(event) {
    this.ws = null;
    const words = closeWords(event.code);
    if (words.final) {
      this.final = true;
      this.on.status({ state: "closed", final: true, ...words });
      return;
    }
    if (!navigator.onLine) {
      this.on.status({ state: "offline", text: "You are offline. The chat reconnects when the network is back." });
      return;  // the "online" event reconnects
    }
    const delay = Math.min(MAX_DELAY_MS, 1000 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.on.status({ state: "offline", text: `${words.text} Reconnecting in ${Math.ceil(delay / 1000)} s…` });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  /** Send now if connected; false otherwise (unsent messages go again after the next resume). */
  send(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }
}
