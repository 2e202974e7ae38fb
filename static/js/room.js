// The room page (templates/rooms/detail.html): wires the socket to the list, the message box
// and the people panel. Nothing typed is lost: a message stays "pending" until acked and is
// re-sent with its original client_id after every reconnect; the server stores it once.
import { ChatSocket } from "./chat-socket.js";
import { Composer } from "./composer.js";
import { History } from "./history.js";
import { Members } from "./members.js";
import { MessageList } from "./message-list.js";
import { Outbox } from "./outbox.js";
import { People } from "./people.js";
import { errorWords } from "./words.js";

const $ = (selector) => document.querySelector(selector);
const config = JSON.parse($("#chat-config").textContent);
const scroller = $("#message-scroller");
const status = $("[data-testid=connection-status]");
const jump = $("[data-testid=jump-to-new]");
const form = $("#composer");
const lockedNotice = $("[data-testid=locked-notice]");
const roomName = $("#room-title").textContent;

const list = new MessageList({ list: $("#messages"), scroller, me: config.user });
const people = new People({ onlineList: $("#online"), onlineCount: $("[data-testid=online-count]"),
  typingLine: $("[data-testid=typing]"), me: config.user });
const membersList = $("[data-testid=members]");
const members = new Members({ list: membersList, count: $("[data-testid=member-count]"),
  apiUrl: membersList.dataset.apiUrl });
const history = new History({ edge: $("[data-testid=history-edge]"), scroller, list,
  apiUrl: scroller.dataset.historyUrl, roomName, announce });
const composer = new Composer({ form, maxChars: config.maxBodyChars, announce, onSend: send,
  onTyping: (active) => socket.send({ type: "typing", active }) });

let live = false;  // false while a (re)connect replays what was missed
let wasLive = false;
let missed = 0;
let unseen = 0;
let serverError = false;
let greeted = false;  // a hello after the first: the Members list may have missed changes

const socket = new ChatSocket({
  path: config.socketPath,
  lastSeq: config.lastSeq,
  on: {
    status: showStatus,
    hello(frame) {
      live = false;
      missed = 0;
      people.showOnline(frame.online);
      showRoom(frame.room);
      if (greeted) members.reload();
      greeted = true;
    },
    room: showRoom,
    deleted: (frame) => list.markDeleted(frame.seq),
    message: showMessage,
    ack(frame) {
      showMessage(frame.message);
      // A server error stays up while any message still waits (a rate-limited burst).
      if (serverError && !list.unsent().length) {
        composer.setError("");
        serverError = false;
      }
    },
    truncated(frame) {
      // Too much was missed to replay: restart the list at the newest messages, and let
      // scrolling up page back through the rest, so the list never has a hole.
      list.clearStored();
      history.pause();
      announce(`You missed ${frame.last_seq - frame.after_seq} messages. Showing the newest; scroll up for the rest.`);
    },
    resumed() {
      if (wasLive && missed) announce(`${missed} new message${missed === 1 ? "" : "s"} while you were away.`);
      live = wasLive = true;
      history.resume();
      outbox.flush();
    },
    presence: (online) => people.showOnline(online),
    typing: (frame) => people.typing(frame.user, frame.active),
    memberUpdated: (member) => members.updated(member),
    memberLeft: (user) => members.left(user),
    error: showError,
  },
});
const outbox = new Outbox({ list, socket });

function showMessage(message) {
  const mine = message.author.id === config.user.id;
  const stick = mine || list.isNearBottom();
  if (!list.upsert(message)) return;
  people.stopTyping(message.author.id);
  if (stick) list.scrollToEnd();
  else showUnseen(unseen + 1);
  if (mine) return;
  if (live) announce(`${message.author.username}: ${(message.body || "deleted message").slice(0, 200)}`);
  else missed += 1;
}

function showError(frame) {
  // Without a client_id, "unavailable" means the server cannot read the log and is about to
  // close the socket: the connection status says that, and the reconnect resumes.
  if (!frame.client_id && frame.code === "unavailable") return;
  const words = errorWords(frame);
  composer.setError(words.text);
  serverError = true;
  if (!frame.client_id) return;
  if (words.wait) {
    // Too fast: nothing is lost, the outbox sends it (and everything after it) once allowed.
    list.markPending(frame.client_id, `Waiting: you are sending too fast. Sending again in ${Math.ceil(words.wait)} s.`);
    outbox.hold(words.wait);
    return;
  }
  list.markFailed(frame.client_id, words.text, {
    retry: words.retry ? (entry) => { list.markPending(entry.client_id); outbox.send(entry); } : null,
    edit: (entry) => { list.removePending(entry.client_id); composer.restore(entry.body); },
  });
}

function showRoom(room) {
  const locked = room.read_only;
  lockedNotice.hidden = !locked;
  composer.setEnabled(!locked && !socket.final, locked ? "This room is read-only." : `Message ${roomName}`);
}

function send(body) {
  const clientId = newClientId();
  list.addPending({ client_id: clientId, body });
  outbox.send({ client_id: clientId, body });  // if not connected, it goes after the next resume
}

/** 128 random bits; crypto.randomUUID exists only on https pages, getRandomValues everywhere. */
function newClientId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function showStatus({ state, text, final, login }) {
  status.dataset.state = state;
  status.querySelector("[data-role=status-text]").textContent = text;
  status.querySelector("[data-role=reconnect]").hidden = state !== "offline" || !navigator.onLine;
  status.querySelector("[data-role=login]").hidden = !login;
  if (final) {
    composer.setEnabled(false, text);
    for (const pending of list.unsent()) {
      list.markFailed(pending.client_id, text, {});
    }
  }
}
status.querySelector("[data-role=reconnect]").addEventListener("click", () => socket.reconnectNow());

// Reading older messages is not interrupted by new ones: a button offers the way down.
function showUnseen(count) {
  unseen = count;
  jump.hidden = count === 0;
  jump.textContent = `${count} new message${count === 1 ? "" : "s"} ↓`;
}
jump.addEventListener("click", () => { list.scrollToEnd(); scroller.focus(); });
scroller.addEventListener("scroll", () => { if (unseen && list.isNearBottom()) showUnseen(0); }, { passive: true });

// Polite announcements for screen readers: a fresh node each time, so a repeat is read again.
function announce(text) {
  const region = $("#announcer");
  const line = document.createElement("p");
  line.textContent = text;
  region.append(line);
  while (region.childElementCount > 3) region.firstElementChild.remove();
}

composer.setEnabled(form.dataset.locked !== "true");
// A desktop reader wants to type at once; on a phone, focusing would cover the page with a keyboard.
if (matchMedia("(pointer: fine)").matches && !composer.input.disabled) composer.input.focus();
list.scrollToEnd();
socket.connect();
