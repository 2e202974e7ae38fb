"""Open a chat log from a JSON store description; as a script, append in a separate process.

    python -m tests.chatlog.append_worker '{"store": {...}, "room_id": 1, ...}'

prints one JSON line per append: [client_id, seq, created].
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from messages.chatlog.base import ChatLog
from messages.chatlog.mongo import MongoChatLog
from messages.chatlog.mysql import MySQLChatLog
from messages.chatlog.sqlite import SQLiteChatLog


def open_log(store: dict[str, Any]) -> ChatLog:
    if store["kind"] == "sqlite":
        return SQLiteChatLog(path=store["path"])
    if store["kind"] == "mysql":
        return MySQLChatLog(url=store["url"])
    return MongoChatLog(url=store["url"], db_name=store["db_name"], write_concern=store["write_concern"])


async def _append_all(job: dict[str, Any]) -> list[tuple[str, int, bool]]:
    log = open_log(job["store"])
    try:
        await log.ping()  # connect before the start line so both processes really overlap
        await asyncio.sleep(max(0.0, job["start_at"] - time.time()))
        results = await asyncio.gather(
            *(
                log.append(
                    room_id=job["room_id"],
                    author_id=job["author_id"],
                    author_username="worker",
                    client_id=client_id,
                    body=f"{client_id} from {job['name']}",
                )
                for client_id in job["client_ids"]
            )
        )
    finally:
        await log.close()
    return [(r.message.client_id, r.message.seq, r.created) for r in results]


if __name__ == "__main__":
    for row in asyncio.run(_append_all(json.loads(sys.argv[1]))):
        print(json.dumps(row))
