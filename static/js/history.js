// Older messages, a page at a time from the history API, as the reader scrolls to the top:
// GET /api/rooms/<slug>/messages/?before=<lowest seq shown>&limit=50 (oldest first).
const PAGE_SIZE = 50;
// Start loading a little before the top is reached, so a steady scroll rarely has to wait.
const AHEAD_PX = 300;

export class History {
  constructor({ edge, scroller, list, apiUrl, roomName, announce }) {
    this.edge = edge;
    this.text = edge.querySelector("[data-role=edge-text]");
    this.button = edge.querySelector("[data-role=edge-button]");
    this.scroller = scroller;
    this.list = list;
    this.apiUrl = apiUrl;
    this.roomName = roomName;
    this.announce = announce;
    this.loading = false;
    this.failed = false;
    this.exhausted = false;
    this.paused = false;
    this.epoch = 0;  // bumped when the list restarts: an answer for the old list is dropped
    this.button.addEventListener("click", () => this.load());
    new IntersectionObserver((entries) => {
      if (entries.at(-1).isIntersecting) this.load();
    }, { root: scroller, rootMargin: `${AHEAD_PX}px 0px 0px 0px` }).observe(edge);
    this.render();
  }

  atStart() {
    const lowest = this.list.lowestSeq();
    return this.exhausted || lowest === null || lowest <= 1;
  }

  /** While a truncated resume refills the list, "older" has no fixed meaning yet. */
  pause() {
    this.paused = true;
    this.exhausted = false;
    this.epoch += 1;
    this.render();
  }

  resume() {
    this.paused = false;
    this.render();
    if (this.inView()) this.load();
  }

  inView() {
    return this.edge.getBoundingClientRect().bottom > this.scroller.getBoundingClientRect().top - AHEAD_PX;
  }

  async load() {
    if (this.loading || this.paused || this.atStart()) return;
    this.loading = true;
    this.failed = false;
    this.render();
    const before = this.list.lowestSeq();
    const epoch = this.epoch;
    try {
      const url = `${this.apiUrl}?before=${before}&limit=${PAGE_SIZE}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const page = await response.json();
      // If the list restarted meanwhile (a truncated resume), this page would leave a hole.
      if (epoch === this.epoch) {
        const added = this.list.prepend(page.results);
        // A page that brings nothing older would mean a hole in the log: stop rather than ask forever.
        if (!(this.list.lowestSeq() < before)) this.exhausted = true;
        this.announce(`${added} older message${added === 1 ? "" : "s"} loaded.`);
      }
    } catch (error) {
      this.failed = true;
      console.warn("older messages:", error);
    } finally {
      this.loading = false;
      this.render();
    }
    // A short page may leave the top in view: keep going until it is not.
    if (!this.failed && this.inView()) this.load();
  }

  render() {
    const start = !this.paused && this.atStart();
    this.edge.dataset.state = start ? "start" : this.failed ? "error" : this.loading ? "loading" : "more";
    this.text.textContent = start ? `This is the start of ${this.roomName}.`
      : this.failed ? "Older messages could not be loaded." : "";
    this.button.hidden = start;
    this.button.textContent = this.failed ? "Try again" : this.loading ? "Loading older messages…" : "Load older messages";
    this.button.setAttribute("aria-disabled", String(this.loading));
  }
}
