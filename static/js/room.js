// The room page: live messages over the WebSocket (docs/protocol.md).
// Nothing typed is lost: a message stays "pending" until acked and is re-sent with its
// original client_id after a reconnect; the server stores it once.
import { ChatSocket } from "./chat-socket.js";
import { MessageList } from "./message-list.js";

const config = JSON.parse(document.getElementById("chat-config").textContent);
const list = new MessageList(document.getElementById("messages"), config.user);
const statusEl = document.querySelector("[data-testid=connection-status]");
const typingEl = document.querySelector("[data-testid=typing]");
const onlineEl = document.getElementById("online");
const form = document.getElementById("composer");
const input = document.getElementById("message-body");
const countEl = document.getElementById("composer-count");
const errorEl = document.getElementById("composer-error");

const ERROR_WORDS = {
  rate_limited: (e) => `You are sending too fast. Try again in ${Math.ceil(e.retry_after || 1)} s.`,
  too_large: (e) => e.detail,
  forbidden: (e) => e.detail,
  unavailable: () => "The server cannot store messages right now. Your message will be retried.",
  invalid_frame: (e) => e.detail,
};

const typers = new Map();

const socket = new ChatSocket({
  path: config.socketPath,
  lastSeq: config.lastSeq,
  onStatus(text, ok) {
    statusEl.textContent = text;
    statusEl.classList.toggle("offline", !ok);
  },
  onHello(frame) { showOnline(frame.online); },
  onMessage(message) { list.upsert(message); },
  onAck(frame) { list.upsert(frame.message); },
  onPresence(online) { showOnline(online); },
  onTyping(frame) { showTyping(frame.user, frame.active); },
  onError(frame) {
    const words = (ERROR_WORDS[frame.code] || ((e) => e.detail))(frame);
    errorEl.textContent = words;
    if (frame.client_id && frame.code !== "unavailable") list.markFailed(frame.client_id, words);
  },
  pendingFrames: () => list.pending(),
});

function showOnline(online) {
  onlineEl.replaceChildren(...online.map((u) => {
    const li = document.createElement("li");
    li.textContent = u.username;
    return li;
  }));
}

function showTyping(user, active) {
  clearTimeout(typers.get(user.id)?.timer);
  if (active) typers.set(user.id, { name: user.username, timer: setTimeout(() => showTyping(user, false), 5000) });
  else typers.delete(user.id);
  const names = [...typers.values()].map((t) => t.name);
  typingEl.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
}

function updateCount() {
  const left = config.maxBodyChars - input.value.trim().length;
  countEl.textContent = left < 200 ? `${left} characters left` : "";
  countEl.classList.toggle("over", left < 0);
}

function send() {
  const body = input.value.trim();
  if (!body) return;
  if (body.length > config.maxBodyChars) {
    errorEl.textContent = `Messages are limited to ${config.maxBodyChars} characters.`;
    return;
  }
  errorEl.textContent = "";
  const clientId = crypto.randomUUID();
  list.addPending({ client_id: clientId, body });
  socket.send({ type: "message.send", client_id: clientId, body });
  socket.send({ type: "typing", active: false });
  input.value = "";
  updateCount();
}

form.addEventListener("submit", (event) => { event.preventDefault(); send(); });
input.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
input.addEventListener("input", () => {
  updateCount();
  socket.send({ type: "typing", active: input.value.length > 0 });
});
list.onRetry = (pending) => socket.send({ type: "message.send", client_id: pending.client_id, body: pending.body });

socket.connect();
