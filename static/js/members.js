// The room's Members list (templates/rooms/detail.html), kept live: `member.updated` adds or
// changes a member, `member.left` removes one (docs/protocol.md). After a reconnect the page
// may have missed changes, so it reads the whole list again from the API.

const ROLE_NAMES = { owner: "owner", moderator: "moderator" };  // members carry no badge

export class Members {
  constructor({ list, count, apiUrl }) {
    this.list = list;
    this.count = count;
    this.apiUrl = apiUrl;
    this.members = new Map();  // user id -> {id, username, role}
    for (const li of list.querySelectorAll("li[data-user-id]")) {
      const id = Number(li.dataset.userId);
      this.members.set(id, { id, username: li.dataset.username, role: li.dataset.role });
    }
  }

  updated(member) {
    this.members.set(member.id, member);
    this.render();
  }

  left(user) {
    if (this.members.delete(user.id)) this.render();
  }

  /** Replace the list with the server's (after a reconnect). Failures leave it as it is. */
  async reload() {
    const found = new Map();
    let url = this.apiUrl;
    try {
      while (url) {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return;
        const page = await response.json();
        for (const member of page.results) found.set(member.id, member);
        url = page.next;
      }
    } catch {
      return;
    }
    this.members = found;
    this.render();
  }

  render() {
    const sorted = [...this.members.values()].sort((a, b) => a.username.localeCompare(b.username));
    this.list.replaceChildren(...sorted.map((member) => {
      const li = document.createElement("li");
      li.dataset.userId = member.id;
      li.dataset.username = member.username;
      li.dataset.role = member.role;
      li.append(member.username);
      if (ROLE_NAMES[member.role]) {
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = ROLE_NAMES[member.role];
        li.append(" ", badge);
      }
      return li;
    }));
    if (!sorted.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "Nobody has joined yet.";
      this.list.append(li);
    }
    this.count.textContent = `(${sorted.length})`;
  }
}
