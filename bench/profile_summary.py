"""Summarise py-spy's collapsed stacks (`bench/run --profile` writes them).

    .venv/bin/python -m bench.profile_summary var/bench/<run>/profile-steady-app-0.txt [--top 25] [--match NAME]

Prints the share of busy samples (idle waits left out) in which each function is on the stack
(inclusive) and at its top (self), so "21% of the time is under room_and_membership" is one
command away. `--under asyncioreactor` counts only the event loop's thread (Twisted's reactor
runs the loop; uvloop's own `run_forever` is C, so py-spy sees no frame of it).
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

# py-spy frames look like "function (path/to/file.py:123)"; the line number splits one
# function into many entries, so it is dropped.
_LINE = re.compile(r":\d+\)$")


def _frames(stack: str) -> list[str]:
    return [_LINE.sub(")", frame) for frame in stack.split(";") if frame]


# Leaves where a thread waits rather than works (py-spy does not always tell them apart).
_IDLE_LEAVES = ("_worker (concurrent/futures/thread.py)", "select (selectors.py)", "wait (threading.py)")


def summarise(path: Path, *, top: int, match: str | None, under: str | None) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames, samples = _frames(stack), int(count)
        if frames[-1] in _IDLE_LEAVES or (under and not any(under in frame for frame in frames)):
            continue
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    if not total:
        return f"{path}: no samples"
    lines = [f"{path}: {total} samples"]
    for title, counter in (("inclusive", inclusive), ("self", own)):
        lines.append(f"\n{title}:")
        shown = [(frame, n) for frame, n in counter.most_common() if match is None or match in frame]
        lines += [f"{100 * n / total:6.1f}%  {frame}" for frame, n in shown[:top]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", help="only show frames containing this text")
    parser.add_argument("--under", help="only count stacks with a frame containing this text, e.g. asyncioreactor")
    args = parser.parse_args()
    for path in args.files:
        print(summarise(path, top=args.top, match=args.match, under=args.under))


if __name__ == "__main__":
    main()
