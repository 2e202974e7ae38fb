"""Bookkeeping of one measured phase: what was sent, acknowledged and delivered to whom.

Every sent message gets a record keyed by its unique client_id. A delivery is a `message.new`
frame reaching one socket. Expected deliveries: every acknowledged message, to every socket
of its room (the sender's included). Everything else is judged against that:

- lost: expected deliveries that never arrived;
- duplicated: a socket got the same message more than once;
- out_of_order: a socket got a sender's message after a later one from the same sender;
- seq_regressions (app only): a socket got a room seq not above the last one it saw.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field


def percentiles_ms(samples_ns: list[int]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds (nearest rank)."""
    if not samples_ns:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(samples_ns)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1e6, 2)

    return {"p50": rank(0.50), "p95": rank(0.95), "p99": rank(0.99), "max": round(ordered[-1] / 1e6, 2)}


@dataclass(slots=True)
class Record:
    sender: int
    room: int
    sent_ns: int
    acked_seq: int | None = None
    error: str | None = None
    expected: int = 0  # sockets of the room when the ack came
    receivers: set[int] = field(default_factory=set)


@dataclass
class Tally:
    """One phase. `members[room]` is the set of socket indexes open in that room."""

    members: dict[int, set[int]]
    seq_ordered: bool  # the app's seq is per room and must only grow on each socket
    records: dict[str, Record] = field(default_factory=dict)
    errors: Counter = field(default_factory=Counter)
    latencies_ns: list[int] = field(default_factory=list)
    ack_latencies_ns: list[int] = field(default_factory=list)
    sent: int = 0
    answered: int = 0
    expected_deliveries: int = 0
    received_deliveries: int = 0  # first deliveries of acknowledged messages
    early_deliveries: int = 0  # first deliveries that came before their ack
    duplicated: int = 0
    out_of_order: int = 0
    seq_regressions: int = 0
    unknown: int = 0  # deliveries of messages this phase did not send
    first_send_ns: int = 0
    last_send_ns: int = 0
    last_delivery_ns: int = 0

    def on_send(self, client_id: str, *, sender: int, room: int, sent_ns: int) -> None:
        self.records[client_id] = Record(sender=sender, room=room, sent_ns=sent_ns)
        self.sent += 1
        self.first_send_ns = self.first_send_ns or sent_ns
        self.last_send_ns = sent_ns

    def on_ack(self, client_id: str, seq: int, now_ns: int) -> None:
        record = self.records.get(client_id)
        if record is None or record.acked_seq is not None or record.error is not None:
            return
        record.acked_seq = seq
        record.expected = len(self.members[record.room])
        self.answered += 1
        self.expected_deliveries += record.expected
        self.received_deliveries += len(record.receivers)
        self.early_deliveries -= len(record.receivers)
        self.ack_latencies_ns.append(now_ns - record.sent_ns)

    def on_error(self, code: str, client_id: str | None) -> None:
        self.errors[code] += 1
        record = self.records.get(client_id) if client_id else None
        if record is not None and record.acked_seq is None and record.error is None:
            record.error = code
            self.answered += 1

    def on_delivery(self, receiver: int, client_id: str, now_ns: int) -> bool:
        """Count one delivery; False when it is a duplicate or not ours."""
        record = self.records.get(client_id)
        if record is None:
            self.unknown += 1
            return False
        if receiver in record.receivers:
            self.duplicated += 1
            return False
        record.receivers.add(receiver)
        self.latencies_ns.append(now_ns - record.sent_ns)
        self.last_delivery_ns = now_ns
        if record.acked_seq is not None:
            self.received_deliveries += 1
        else:
            self.early_deliveries += 1
        return True

    @property
    def pending(self) -> int:
        """Answers and deliveries still owed; 0 when the phase is complete."""
        return (self.sent - self.answered) + (self.expected_deliveries - self.received_deliveries)

    def summary(self, *, send_seconds: float) -> dict:
        acked = sum(1 for record in self.records.values() if record.acked_seq is not None)
        delivered_unacked = sum(len(record.receivers) for record in self.records.values() if record.acked_seq is None)
        end_ns = max(self.last_delivery_ns, self.last_send_ns, self.first_send_ns + 1)
        span_s = max((end_ns - self.first_send_ns) / 1e9, send_seconds, 1e-9) if self.sent else 1e-9
        return {
            "offered": self.sent,
            "offered_per_s": round(self.sent / max(send_seconds, 1e-9), 1),
            "acked": acked,
            "errors": dict(self.errors),
            "unanswered": self.sent - self.answered,
            "deliveries_expected": self.expected_deliveries,
            "deliveries_received": self.received_deliveries,
            "lost": self.expected_deliveries - self.received_deliveries,
            "duplicated": self.duplicated,
            "out_of_order": self.out_of_order,
            "seq_regressions": self.seq_regressions if self.seq_ordered else None,
            "delivered_unacked": delivered_unacked,
            "unknown_deliveries": self.unknown,
            "messages_per_s": round(acked / span_s, 1),
            "deliveries_per_s": round(self.received_deliveries / span_s, 1),
            "latency_ms": percentiles_ms(self.latencies_ns),
            "ack_latency_ms": percentiles_ms(self.ack_latencies_ns),
        }

    def acked_by_room(self) -> dict[int, dict[str, int]]:
        """room -> {client_id: acknowledged seq}, for checking the stored log."""
        rooms: dict[int, dict[str, int]] = {}
        for client_id, record in self.records.items():
            if record.acked_seq is not None:
                rooms.setdefault(record.room, {})[client_id] = record.acked_seq
        return rooms


def now_ns() -> int:
    return time.monotonic_ns()
