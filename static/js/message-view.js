// One message as DOM. User text only ever enters through text nodes and textContent, so a
// body such as `<img src=x onerror=…>` stays text; links are built as elements.
// The markup matches templates/rooms/detail.html, which renders the newest page on the server.

const LINK = /\bhttps?:\/\/[^\s<>"]+/g;
// A sentence often ends right after a URL ("see https://example.org."): that dot is not the link's.
const TRAILING = /[.,;:!?'"]+$/;

const timeOnly = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayAndTime = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function el(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

function linkEnd(url) {
  let end = url.replace(TRAILING, "");
  // Keep "(…)" inside a URL (Wikipedia), drop an unmatched ")" closing the sentence.
  while (end.endsWith(")") && end.split("(").length < end.split(")").length) end = end.slice(0, -1);
  return end;
}

export function renderBody(node, body) {
  node.replaceChildren();
  let last = 0;
  for (const match of body.matchAll(LINK)) {
    const url = linkEnd(match[0]);
    node.append(body.slice(last, match.index));
    const a = el("a");
    a.href = url;
    a.textContent = url;
    a.rel = "noopener noreferrer nofollow ugc";
    a.target = "_blank";
    node.append(a);
    last = match.index + url.length;
  }
  node.append(body.slice(last));
}

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

/** Show an ISO instant in the viewer's own time zone: the time today, day and time before. */
export function setTime(timeEl, iso) {
  const date = iso ? new Date(iso) : new Date();
  if (iso) timeEl.dateTime = iso;
  timeEl.textContent = (sameDay(date, new Date()) ? timeOnly : dayAndTime).format(date);
  timeEl.title = full.format(date);
}

/** A stable colour per person, so a glance tells speakers apart. */
export function paintAvatar(li, authorId) {
  li.style.setProperty("--hue", String((Number(authorId) * 137) % 360));
}

/** A new, empty message element with the same structure as the server-rendered ones. */
export function messageElement() {
  const li = el("li", "message");
  const avatar = el("span", "avatar");
  avatar.setAttribute("aria-hidden", "true");
  const main = el("div", "message-main");
  const meta = el("p", "meta");
  meta.append(el("span", "author"), " ", el("time"));
  main.append(meta, el("p", "body"), el("p", "state"));
  li.append(avatar, main);
  return li;
}

/** Fill `li` from a protocol message object (docs/protocol.md), or a pending one (no seq yet). */
export function fillMessage(li, message, { author, state }) {
  li.dataset.authorId = author.id;
  li.dataset.clientId = message.client_id;
  li.dataset.state = state;
  if (message.seq) li.dataset.seq = message.seq;
  paintAvatar(li, author.id);
  li.querySelector(".avatar").textContent = initial(author.username);
  li.querySelector(".author").textContent = author.username;
  setTime(li.querySelector("time"), message.created_at);
  const body = li.querySelector(".body");
  body.classList.toggle("deleted", Boolean(message.deleted_at));
  if (message.deleted_at || message.body == null) body.textContent = "This message was deleted.";
  else renderBody(body, message.body);
}

export function initial(username) {
  const [first = "?"] = username;  // a whole code point, so an emoji name keeps its emoji
  return first.toUpperCase();
}
