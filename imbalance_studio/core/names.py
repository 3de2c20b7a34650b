"""Class names and paths with undecodable bytes, written as text that survives every format.

Python gives a file name whose bytes are not UTF-8 as a str holding "surrogate escapes"
(`os.fsdecode(b"bad\\xff") == "bad\\udcff"`). Such a str cannot be encoded as UTF-8, so every
file we write that carries a name needs a stated form for those bytes. There are two:

* **Text form** (`escape_name` / `unescape_name`): each undecodable byte 0xNN is written as
  the four characters `\\xNN` (lower-case hex, NN >= 80), so `bad\\udcff` becomes `bad\\xff`.
  It is plain UTF-8 and reversible. Used where text must be valid UTF-8 for any reader: the
  project file (pydantic's JSON parser refuses lone surrogates), CSV files, the README, chart
  labels and the CLI's text output. A name without undecodable bytes is written unchanged
  (backslashes and all) unless it holds the text of an escape itself (`\\x80`..`\\xff`,
  `\\ud800`..`\\udfff`); only then is each backslash that starts such text (or precedes
  another backslash or an undecodable byte) doubled, so no name is ever misread.
* **JSON form** (`json_text`): JSON files of an export, staging records and `--json` output
  write an undecodable byte as the JSON escape `\\udcNN`. Python's `json.load` gives back the
  very str that `os.listdir` and torchvision's `ImageFolder` give, so `class_to_idx` compares
  equal as it is. (The JSON grammar allows such escapes; strict parsers may refuse them, and
  the text form of the same name is `escape_name(name)`.)
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

# Any lone surrogate: undecodable bytes come as U+DC80..U+DCFF (surrogateescape); other lone
# surrogates cannot come from the file system but are escaped the same way (\\udNNN).
_SURROGATE = re.compile("[\ud800-\udfff]")
# Text that reads as one of our escapes: its presence means the string is in escaped form.
_ESCAPE_TEXT = re.compile(r"\\(?:x[89a-f][0-9a-f]|ud[89a-f][0-9a-f]{2})")
# One token of the escaped form, decoded left to right.
_TOKEN = re.compile(r"\\\\|\\x([89a-f][0-9a-f])|\\u(d[89a-f][0-9a-f]{2})")
# A backslash of the original that must be doubled: one followed by a backslash, a surrogate
# (whose escape starts with one) or text that would read as an escape.
_NEEDS_DOUBLE = re.compile(r"\\(?=\\|[\ud800-\udfff]|x[89a-f][0-9a-f]|ud[89a-f][0-9a-f]{2})")

ERRORS = "imbalance-studio-names"  # codec error handler: undecodable bytes as \xNN


def has_undecodable(text: str) -> bool:
    """True when `text` holds lone surrogates (undecodable bytes of a file name)."""
    # Much quicker than a regex search over the long joined columns of an export.
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _needs_escape(text: str) -> bool:
    return has_undecodable(text) or ("\\" in text and _ESCAPE_TEXT.search(text) is not None)


def _surrogate_escape(ch: str) -> str:
    o = ord(ch)
    return f"\\x{o - 0xDC00:02x}" if 0xDC80 <= o <= 0xDCFF else f"\\u{o:04x}"


def escape_name(name: str) -> str:
    """The text form of `name`: plain UTF-8, reversible with `unescape_name`."""
    if not _needs_escape(name):
        return name  # the usual case: written as it is
    name = _NEEDS_DOUBLE.sub(r"\\\\", name)
    return _SURROGATE.sub(lambda m: _surrogate_escape(m.group()), name)


def unescape_name(text: str) -> str:
    """The name whose text form is `text` (`text` itself when it holds no escape)."""
    if not _ESCAPE_TEXT.search(text):
        return text

    def token(m: re.Match[str]) -> str:
        if m.group(1):
            return chr(0xDC00 + int(m.group(1), 16))
        if m.group(2):
            return chr(int(m.group(2), 16))
        return "\\"

    return _TOKEN.sub(token, text)


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def display_name(name: str) -> str:
    """`escape_name(name)` with control characters made visible (`\\x09` for a tab, C1 ones
    as `\\u0085`): for the README and chart labels, where they would not show."""
    text = escape_name(name)
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(lambda m: _control_escape(ord(m.group())), text)


def _control_escape(o: int) -> str:
    # \xNN with NN >= 80 means an undecodable byte, so C1 controls are written \u00NN.
    return f"\\x{o:02x}" if o < 0x80 else f"\\u{o:04x}"


def escape_all(values: list[str]) -> list[str]:
    """`escape_name` of each value; one pass over the joined column when none needs it."""
    joined = "\x00".join(values)
    if not _needs_escape(joined):
        return values
    return [escape_name(v) for v in values]


def json_text(obj: object, indent: int | None = 2, **kw: Any) -> str:
    """JSON of `obj` (UTF-8 text as it is, `ensure_ascii=False`; `kw` go to json.dumps) with
    each lone surrogate written as its `\\udcNN` escape, which `json.loads` turns back into
    the same str."""
    text = json.dumps(obj, indent=indent, ensure_ascii=False, **kw)
    if not has_undecodable(text):
        return text
    # A raw surrogate can only sit inside a JSON string, where its escape means the same.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _handler(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    if all("\ud800" <= ch <= "\udfff" for ch in bad):
        return "".join(_surrogate_escape(ch) for ch in bad), exc.end
    # Not a surrogate: a character the stream's encoding lacks (e.g. a Latin-1 terminal).
    return bad.encode("ascii", "backslashreplace").decode("ascii"), exc.end


codecs.register_error(ERRORS, _handler)
