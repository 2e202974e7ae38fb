// A WebSocket that reconnects with backoff, resumes after the last seq it saw and
// re-sends what was not acked. Frames are documented in docs/protocol.md.
export class ChatSocket {
  constructor(handlers) {
    this.h = handlers;
    this.lastSeq = handlers.lastSeq || 0;
    this.attempt = 0;
    this.ws = null;
    this.closedForGood = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    // after_seq in the handshake: the replay comes before any live message.
    return `${scheme}://${location.host}${this.h.path}?after_seq=${this.lastSeq}`;
  }

  connect() {
    this.h.onStatus(this.attempt ? "Reconnecting…" : "Connecting…", false);
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("message", (event) => this.dispatch(JSON.parse(event.data)));
    ws.addEventListener("close", (event) => this.closed(event));
  }

  dispatch(frame) {
    switch (frame.type) {
      case "hello":
        this.attempt = 0;
        this.h.onStatus("Connected", true);
        this.h.onHello(frame);
        break;
      case "resume.done":
        // Everything missed is replayed: re-send what was never acked, with the same client_id.
        for (const pending of this.h.pendingFrames()) {
          this.send({ type: "message.send", client_id: pending.client_id, body: pending.body });
        }
        break;
      case "message.new":
        if (frame.message.seq > this.lastSeq) this.lastSeq = frame.message.seq;
        this.h.onMessage(frame.message);
        break;
      case "message.ack": this.h.onAck(frame); break;
      case "presence": this.h.onPresence(frame.online); break;
      case "typing": this.h.onTyping(frame); break;
      case "error": this.h.onError(frame); break;
    }
  }

  closed(event) {
    const final = { 4401: "You are signed out. Log in again to chat.", 4403: "You are not allowed in this room.",
      4404: "This room does not exist.", 4001: "You logged out." }[event.code];
    if (final) {
      this.closedForGood = true;
      this.h.onStatus(final, false);
      return;
    }
    const delay = Math.min(30000, 500 * 2 ** this.attempt) * (0.5 + Math.random() / 2);
    this.attempt += 1;
    this.h.onStatus(`Connection lost. Reconnecting in ${Math.ceil(delay / 1000)} s…`, false);
    setTimeout(() => this.connect(), delay);
  }

  send(frame) {
    // Unsent frames are not queued: pending messages are re-sent after the next resume.
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }
}
