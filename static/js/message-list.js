// The message list: ordered by seq, one element per message, pending ones at the end.
// Bodies are inserted as text (never as HTML); links are built as elements.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/g;

function renderBody(el, body) {
  el.replaceChildren();
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    el.append(document.createTextNode(body.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = match[0];
    a.textContent = match[0];
    a.rel = "noopener noreferrer nofollow";
    a.target = "_blank";
    el.append(a);
    last = match.index + match[0].length;
  }
  el.append(document.createTextNode(body.slice(last)));
}

function localTime(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

export class MessageList {
  constructor(root, me) {
    this.root = root;
    this.me = me;
    this.pendingByClientId = new Map();
    this.onRetry = () => {};
    for (const time of root.querySelectorAll("time[datetime]")) time.textContent = localTime(time.dateTime);
    this.scrollToEnd();
  }

  element(message) {
    const li = document.createElement("li");
    li.className = "message";
    li.innerHTML = '<span class="author"></span> <time></time><p class="body"></p><span class="state"></span>';
    return li;
  }

  fill(li, message, state) {
    li.dataset.clientId = message.client_id;
    li.querySelector(".author").textContent = message.author ? message.author.username : this.me.username;
    const time = li.querySelector("time");
    if (message.created_at) time.dateTime = message.created_at;
    time.textContent = localTime(message.created_at);
    const body = li.querySelector(".body");
    if (message.deleted_at) {
      body.textContent = "This message was deleted.";
      body.classList.add("deleted");
    } else {
      renderBody(body, message.body);
    }
    li.dataset.state = state;
    const stateEl = li.querySelector(".state");
    if (stateEl) stateEl.textContent = state === "pending" ? "sending…" : "";
  }

  addPending(pending) {
    const li = this.element(pending);
    this.fill(li, pending, "pending");
    this.pendingByClientId.set(pending.client_id, { ...pending, li });
    this.root.append(li);
    this.scrollToEnd();
  }

  pending() {
    return [...this.pendingByClientId.values()].filter((p) => p.li.dataset.state === "pending");
  }

  markFailed(clientId, reason) {
    const pending = this.pendingByClientId.get(clientId);
    if (!pending) return;
    pending.li.dataset.state = "failed";
    const stateEl = pending.li.querySelector(".state");
    stateEl.textContent = `Not sent: ${reason} `;
    const retry = document.createElement("button");
    retry.type = "button";
    retry.className = "link-button";
    retry.textContent = "Retry";
    retry.addEventListener("click", () => {
      pending.li.dataset.state = "pending";
      stateEl.textContent = "sending…";
      this.onRetry(pending);
    });
    stateEl.append(retry);
  }

  upsert(message) {
    if (this.root.querySelector(`[data-seq="${message.seq}"]`)) return;
    const mine = message.author.id === this.me.id ? this.pendingByClientId.get(message.client_id) : undefined;
    let li = mine ? mine.li : this.element(message);
    if (mine) this.pendingByClientId.delete(message.client_id);
    this.fill(li, message, "sent");
    li.dataset.seq = message.seq;
    // Keep seq order: insert before the first confirmed message with a higher seq, or before pending ones.
    const after = [...this.root.children].find((el) =>
      el !== li && (el.dataset.seq ? Number(el.dataset.seq) > message.seq : el.dataset.state !== "sent"));
    const atBottom = this.root.scrollHeight - this.root.scrollTop - this.root.clientHeight < 80;
    this.root.insertBefore(li, after || null);
    if (atBottom || mine) this.scrollToEnd();
  }

  scrollToEnd() { this.root.scrollTop = this.root.scrollHeight; }
}
