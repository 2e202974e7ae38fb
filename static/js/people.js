// Who is here: the online list, the count in the room header, and "… is typing".
import { initial, paintAvatar } from "./message-view.js";

// A typer who stops sending "active" (closed the tab mid-word) fades out after this long.
const TYPING_TTL_MS = 6000;

export class People {
  constructor({ onlineList, onlineCount, typingLine, me }) {
    this.onlineList = onlineList;
    this.onlineCount = onlineCount;
    this.typingLine = typingLine;
    this.me = me;
    this.typers = new Map();  // user id -> {username, timer}
  }

  showOnline(online) {
    this.onlineList.replaceChildren(...online.map((user) => {
      const li = document.createElement("li");
      li.className = "person";
      paintAvatar(li, user.id);
      const avatar = document.createElement("span");
      avatar.className = "avatar small";
      avatar.setAttribute("aria-hidden", "true");
      avatar.textContent = initial(user.username);
      li.append(avatar, user.id === this.me.id ? `${user.username} (you)` : user.username);
      return li;
    }));
    this.onlineCount.textContent = `${online.length} online`;
    // Someone who left cannot still be typing.
    const here = new Set(online.map((u) => u.id));
    for (const id of this.typers.keys()) if (!here.has(id)) this.stopTyping(id);
  }

  typing(user, active) {
    if (user.id === this.me.id) return;  // my other tabs
    if (active) {
      clearTimeout(this.typers.get(user.id)?.timer);
      this.typers.set(user.id, { username: user.username, timer: setTimeout(() => this.stopTyping(user.id), TYPING_TTL_MS) });
      this.render();
    } else {
      this.stopTyping(user.id);
    }
  }

  /** A message from someone means they have stopped typing it. */
  stopTyping(userId) {
    const typer = this.typers.get(userId);
    if (!typer) return;
    clearTimeout(typer.timer);
    this.typers.delete(userId);
    this.render();
  }

  render() {
    const names = [...this.typers.values()].map((t) => t.username);
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    this.typingLine.textContent = text;
  }
}
