// The message box: Enter sends, Shift+Enter starts a new line, the length limit shows before
// it is reached, and "typing…" is signalled sparingly.

// The server relays at most one "active" per CHAT_TYPING_INTERVAL_SECONDS (2 s); refreshing a bit
// slower keeps others' indicators alive without frames the server would drop anyway.
const TYPING_REFRESH_MS = 2500;
const TYPING_IDLE_MS = 4000;
const WARN_RATIO = 0.8;

export class Composer {
  constructor({ form, maxChars, onSend, onTyping, announce }) {
    this.form = form;
    this.input = form.querySelector("textarea");
    this.countEl = form.querySelector("[data-role=count]");
    this.errorEl = form.querySelector("[data-role=error]");
    this.maxChars = maxChars;
    this.onSend = onSend;
    this.onTyping = onTyping;
    this.announce = announce;
    this.level = "ok";
    this.typingSentAt = 0;
    this.idleTimer = null;

    form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (event) => {
      // isComposing: Enter also confirms an IME candidate (Japanese, Chinese…); that is not a send.
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => { this.update(); this.typing(this.input.value.trim() !== ""); });
    this.input.addEventListener("blur", () => this.typing(false));
    this.update();
  }

  /** Code points after trimming: what the server counts (Python's len(body.strip())). */
  length() { return [...this.input.value.trim()].length; }

  update() {
    const length = this.length();
    const level = length > this.maxChars ? "over" : length >= this.maxChars * WARN_RATIO ? "near" : "ok";
    const limit = this.maxChars.toLocaleString();
    let text = "";
    if (level === "near") text = `${length.toLocaleString()} / ${limit} characters`;
    if (level === "over") text = `${length.toLocaleString()} / ${limit} characters: ${(length - this.maxChars).toLocaleString()} too many`;
    this.countEl.textContent = text;
    this.countEl.dataset.level = level;
    this.input.setAttribute("aria-invalid", String(level === "over"));
    if (level !== this.level && level !== "ok") {
      this.announce(level === "over" ? `Your message is over the ${limit} character limit.`
        : `You are close to the ${limit} character limit.`);
    }
    this.level = level;
    // Grow with the text up to the CSS max-height, then scroll inside.
    this.input.style.height = "auto";
    this.input.style.height = `${this.input.scrollHeight + 2}px`;
  }

  submit() {
    const body = this.input.value.trim();
    if (!body || this.input.disabled) return;
    const length = this.length();
    if (length > this.maxChars) {
      this.setError(`This message is too long: ${length.toLocaleString()} characters, and messages can have at most ` +
        `${this.maxChars.toLocaleString()}. Shorten it by ${(length - this.maxChars).toLocaleString()}.`);
      return;
    }
    this.setError("");
    this.typing(false);
    this.onSend(body);
    this.input.value = "";
    this.update();
  }

  /** An unsent message's text back in the box, to fix and send again. */
  restore(body) {
    this.input.value = body;
    this.update();
    this.input.focus();
  }

  setError(text) { this.errorEl.textContent = text; }

  setEnabled(enabled, placeholder) {
    this.input.disabled = !enabled;
    this.form.querySelector("button[type=submit]").disabled = !enabled;
    if (placeholder) this.input.placeholder = placeholder;
  }

  typing(active) {
    clearTimeout(this.idleTimer);
    const now = Date.now();
    if (active) {
      if (now - this.typingSentAt > TYPING_REFRESH_MS) {
        this.typingSentAt = now;
        this.onTyping(true);
      }
      this.idleTimer = setTimeout(() => this.typing(false), TYPING_IDLE_MS);
    } else if (this.typingSentAt) {
      this.typingSentAt = 0;
      this.onTyping(false);
    }
  }
}
