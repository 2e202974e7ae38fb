// What the server's error codes and close codes mean, in the words a person would use.
// Codes are listed in docs/protocol.md (messages/protocol.py).

const ISO_INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})/g;
const when = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Server details may carry UTC timestamps ("muted until 2026-…Z"): show them in local time. */
function localized(detail) {
  return String(detail || "").replace(ISO_INSTANT, (iso) => when.format(new Date(iso)));
}

function seconds(n) {
  const s = Math.max(1, Math.ceil(n || 1));
  return `${s} second${s === 1 ? "" : "s"}`;
}

/** {text, retry, wait}: what to tell the writer; whether sending the same message again can
 *  work; for rate_limited, the seconds after which the page sends it again by itself. */
export function errorWords(frame) {
  switch (frame.code) {
    case "rate_limited":
      return { text: `You are sending messages too fast. The rest will be sent in ${seconds(frame.retry_after)}.`,
        retry: true, wait: frame.retry_after || 1 };
    case "too_large": {
      const most = frame.limit ? `at most ${frame.limit.toLocaleString()} characters` : "fewer characters";
      return { text: `This message is too long. Messages can have ${most}.`, retry: false };
    }
    case "forbidden":
      return { text: localized(frame.detail) || "You cannot post in this room.", retry: false };
    case "unavailable":
      return { text: "The server cannot store messages right now. Try again in a moment.", retry: true };
    default:
      return { text: `The server did not accept this: ${localized(frame.detail)}`, retry: false };
  }
}

const FINAL_CLOSES = {
  4401: { text: "You are signed out. Log in again to chat.", login: true },
  4001: { text: "You are signed out (you logged out, or your account was closed). Log in again to chat.", login: true },
  4403: { text: "You are no longer allowed in this room." },
  4404: { text: "This room does not exist any more." },
};

/** {text, final, login}: a final close stops reconnecting; any other one is a dropped connection. */
export function closeWords(code) {
  if (FINAL_CLOSES[code]) return { ...FINAL_CLOSES[code], final: true };
  // "Try again later": 4503 (daphne cannot send 1013), 1011 for an unexpected server error.
  if ([4503, 1013, 1011].includes(code)) return { text: "The server is having trouble.", final: false };
  return { text: "Connection lost.", final: false };
}
