"""Short, one-line text about many names: every message that lists classes or files uses
`summarize`, so a dataset with 2,000 classes gets one readable line, not 20 KB of names."""

from __future__ import annotations

import re
from collections.abc import Iterable

# How many names a message shows before "and N more".
SUMMARY_LIMIT = 5

# Characters that would break a one-line message or drive the terminal: C0/C1 controls
# (newline, escape sequences), Unicode line/paragraph separators (splitlines() breaks on
# them) and lone surrogates (undecodable bytes of a file name, kept by surrogateescape).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{code - 0xDC00:02x}"
    return ch.encode("unicode_escape").decode("ascii")


def printable(text: str) -> str:
    """`text` with control characters, line separators and undecodable bytes written as
    backslash escapes, so it stays on one line and cannot drive the terminal."""
    return _UNPRINTABLE.sub(_escape, text)


def summarize(names: Iterable[str], limit: int = SUMMARY_LIMIT) -> str:
    """`"a, b, c, d, e and 1995 more"`: the first `limit` names (made printable), then a count."""
    items = list(names)
    shown = ", ".join(printable(str(n)) for n in items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def plural(n: int, word: str, many: str | None = None) -> str:
    """`"1 class"`, `"3 classes"`, `"1,000 images"`."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def made_text(made: int, reused: int) -> str:
    """How a generation's images came to be: `"all 130 made earlier and reused"`,
    `"12 made now, 118 made earlier and reused"`, `"all 5 made now"`."""
    if not made:
        return f"all {reused:,} made earlier and reused" if reused else "none"
    if not reused:
        return f"all {made:,} made now"
    return f"{made:,} made now, {reused:,} made earlier and reused"
