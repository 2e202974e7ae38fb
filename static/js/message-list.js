// The message list: one element per seq, in seq order, my unconfirmed messages after them.
// It always shows one unbroken run of seqs (lowest..highest), so "older" means "before lowest"
// and a resume never leaves a hole in the middle.
import { fillMessage, messageElement, paintAvatar, renderBody, setTime } from "./message-view.js";

const GROUP_WINDOW_MS = 5 * 60 * 1000;  // a follow-up within 5 minutes hides the repeated name
const NEAR_BOTTOM_PX = 80;

export class MessageList {
  constructor({ list, scroller, me }) {
    this.root = list;
    this.scroller = scroller;
    this.me = me;
    this.bySeq = new Map();
    this.pending = new Map();  // client_id -> {client_id, body, li}
    this.hydrate();
  }

  /** Server-rendered messages: local times, links and colours are the browser's job. */
  hydrate() {
    for (const li of this.root.children) {
      this.bySeq.set(Number(li.dataset.seq), li);
      paintAvatar(li, li.dataset.authorId);
      const time = li.querySelector("time");
      setTime(time, time.dateTime);
      const body = li.querySelector(".body");
      if (!body.classList.contains("deleted")) renderBody(body, body.textContent);
      this.regroup(li);
    }
  }

  lowestSeq() { return this.bySeq.size ? Number(this.root.querySelector("[data-seq]").dataset.seq) : null; }

  /** Add or confirm one stored message; returns true when it was not shown before. */
  upsert(message) {
    if (this.bySeq.has(message.seq)) return false;
    const mine = message.author.id === this.me.id ? this.pending.get(message.client_id) : undefined;
    const li = mine ? mine.li : messageElement();
    if (mine) this.pending.delete(message.client_id);
    fillMessage(li, message, { author: message.author, state: "sent" });
    li.querySelector(".state").replaceChildren();
    this.bySeq.set(message.seq, li);
    this.place(li, message.seq);
    return true;
  }

  /** Insert a page of older messages without moving what the reader is looking at. */
  prepend(messages) {
    const fromBottom = this.scroller.scrollHeight - this.scroller.scrollTop;
    const added = messages.filter((m) => this.upsert(m)).length;
    this.scroller.scrollTop = this.scroller.scrollHeight - fromBottom;
    return added;
  }

  place(li, seq) {
    // After the last stored message with a lower seq (so before my unconfirmed ones).
    // New messages almost always belong at the end, so search from there.
    let prev = this.root.lastElementChild;
    while (prev && (!prev.dataset.seq || prev === li || Number(prev.dataset.seq) > seq)) {
      prev = prev.previousElementSibling;
    }
    if (prev) prev.after(li);
    else this.root.prepend(li);
    this.regroupAround(li);
  }

  regroupAround(li) {
    this.regroup(li);
    if (li.nextElementSibling) this.regroup(li.nextElementSibling);
  }

  regroup(li) {
    const prev = li.previousElementSibling;
    const time = (node) => Date.parse(node.querySelector("time").dateTime) || Date.now();
    li.classList.toggle("continued", Boolean(prev) && prev.dataset.authorId === li.dataset.authorId
      && prev.dataset.state !== "failed" && li.dataset.state !== "failed"
      && Math.abs(time(li) - time(prev)) < GROUP_WINDOW_MS);
  }

  addPending({ client_id, body }) {
    const li = messageElement();
    fillMessage(li, { client_id, body }, { author: this.me, state: "pending" });
    li.querySelector(".state").textContent = "Sending…";
    this.pending.set(client_id, { client_id, body, li });
    this.root.append(li);
    this.regroup(li);
    this.scrollToEnd();
  }

  /** Messages still waiting for an ack: re-sent, same client_id, after every reconnect. */
  unsent() { return [...this.pending.values()].filter((p) => p.li.dataset.state === "pending"); }

  markPending(clientId, note = "Sending…") {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    entry.li.dataset.state = "pending";
    entry.li.querySelector(".state").textContent = note;
    this.regroupAround(entry.li);
  }

  /** Show why a message was not stored, with what the writer can do about it. */
  markFailed(clientId, reason, { retry, edit }) {
    const entry = this.pending.get(clientId);
    if (!entry) return;
    entry.li.dataset.state = "failed";
    this.regroupAround(entry.li);
    const state = entry.li.querySelector(".state");
    state.replaceChildren(`Not sent: ${reason} `);
    if (retry) state.append(actionButton("Retry", () => retry(entry)), " ");
    if (edit) state.append(actionButton("Edit", () => edit(entry)));
  }

  /** A moderator deleted a message: keep its place (its seq), drop its text. */
  markDeleted(seq) {
    const li = this.bySeq.get(seq);
    if (!li) return;  // not loaded yet: history will bring it as a tombstone
    const body = li.querySelector(".body");
    body.classList.add("deleted");
    body.textContent = "This message was deleted.";
  }

  removePending(clientId) {
    const li = this.pending.get(clientId)?.li;
    if (!li) return;
    const next = li.nextElementSibling;
    li.remove();
    this.pending.delete(clientId);
    if (next) this.regroup(next);
  }

  /** Forget every stored message shown (not my unsent ones): the list restarts from what comes next. */
  clearStored() {
    for (const li of this.bySeq.values()) li.remove();
    this.bySeq.clear();
  }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() { this.scroller.scrollTop = this.scroller.scrollHeight; }
}

function actionButton(text, onClick) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button";
  button.textContent = text;
  button.addEventListener("click", onClick);
  return button;
}
