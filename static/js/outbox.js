// My unacknowledged messages, sent in the order they were written.
// After a rate_limited refusal every unsent message waits until the server's retry_after has
// passed and then goes again, oldest first: a burst is slowed down, never reordered or dropped.
// Re-sending one that is already stored is harmless: the server acks its client_id again.

export class Outbox {
  constructor({ list, socket }) {
    this.list = list;
    this.socket = socket;
    this.holdUntil = 0;
    this.timer = null;
  }

  send({ client_id, body }) {
    // While held, a new message waits too, or it would overtake the ones held before it.
    if (Date.now() < this.holdUntil) return;
    this.socket.send({ type: "message.send", client_id, body });
  }

  /** Send everything still pending, oldest first (after a reconnect, or when a hold ends). */
  flush() {
    if (Date.now() < this.holdUntil) return;
    for (const pending of this.list.unsent()) this.send(pending);
  }

  /** The server refused one send for speed: hold them all for `seconds`, then try again. */
  hold(seconds) {
    const ms = Math.max(250, seconds * 1000);
    this.holdUntil = Date.now() + ms;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.holdUntil = 0; this.flush(); }, ms);
  }
}
