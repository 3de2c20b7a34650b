"""A minimal Parquet writer: string and int64 columns, one row group, no compression.

Why Parquet, and why our own: Hugging Face `datasets.load_dataset("imagefolder", data_dir=OUT)`
takes each split's column types from its metadata file, and of the three it reads (CSV, JSON
Lines, Parquet) only Parquet carries a schema in which `label` can be a `ClassLabel` (the
`huggingface` key of the file's key-value metadata, which `datasets.Features.from_arrow_schema`
reads). Writing that takes ~150 lines of the Parquet format (Thrift compact protocol, PLAIN
data pages, RLE definition levels), where pyarrow would be a 40 MB dependency for one file.
tests/test_export_hf.py reads what this writes with pyarrow and with `datasets` itself.

Every column is OPTIONAL (nullable, as arrow's and `datasets`' own schemas are; a required
column would not match them) and has no nulls. Output is deterministic: same columns, same
bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

MAGIC = b"PAR1"
CREATED_BY = "imbalance-studio"
_ROWS_PER_PAGE = 50_000

# Thrift compact protocol field types.
_I32, _I64, _BINARY, _LIST, _STRUCT = 5, 6, 8, 9, 12
# Parquet enums (parquet.thrift).
_BYTE_ARRAY, _INT64 = 6, 2
_OPTIONAL = 1
_UTF8 = 0  # ConvertedType
_PLAIN, _RLE = 0, 3
_DATA_PAGE = 0
_UNCOMPRESSED = 0


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


class _Struct:
    """One Thrift struct in the compact protocol, fields added in increasing id order."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.last = 0

    def _header(self, fid: int, ftype: int) -> None:
        delta = fid - self.last
        if 0 < delta <= 15:
            self.buf.append((delta << 4) | ftype)
        else:
            self.buf.append(ftype)
            self.buf += _zigzag(fid)
        self.last = fid

    def i32(self, fid: int, value: int) -> _Struct:
        self._header(fid, _I32)
        self.buf += _zigzag(value)
        return self

    def i64(self, fid: int, value: int) -> _Struct:
        self._header(fid, _I64)
        self.buf += _zigzag(value)
        return self

    def string(self, fid: int, value: str | bytes) -> _Struct:
        raw = value.encode("utf-8") if isinstance(value, str) else value
        self._header(fid, _BINARY)
        self.buf += _varint(len(raw)) + raw
        return self

    def struct(self, fid: int, value: _Struct) -> _Struct:
        self._header(fid, _STRUCT)
        self.buf += value.bytes()
        return self

    def list(self, fid: int, etype: int, items: Sequence) -> _Struct:
        self._header(fid, _LIST)
        n = len(items)
        self.buf += bytes([(n << 4) | etype]) if n < 15 else bytes([0xF0 | etype]) + _varint(n)
        for item in items:
            if etype == _STRUCT:
                self.buf += item.bytes()
            elif etype == _BINARY:
                raw = item.encode("utf-8")
                self.buf += _varint(len(raw)) + raw
            else:  # i32
                self.buf += _zigzag(item)
        return self

    def bytes(self) -> bytes:
        return bytes(self.buf) + b"\x00"  # field stop


def _plain(values: Sequence, is_int: bool) -> bytes:
    if is_int:
        return struct.pack(f"<{len(values)}q", *values)
    # Each value as a 4-byte length then its UTF-8 bytes, built with C-level joins (an export
    # of 10^5 files writes this while the clock runs against cp). No value holds a NUL.
    raws = "\x00".join(values).encode("utf-8").split(b"\x00") if values else []
    lengths = struct.pack(f"<{len(raws)}I", *map(len, raws))
    parts = [b""] * (2 * len(raws))
    parts[::2] = [lengths[i : i + 4] for i in range(0, len(lengths), 4)]
    parts[1::2] = raws
    return b"".join(parts)


def _page(values: Sequence, is_int: bool) -> bytes:
    """A PLAIN data page with its header; definition levels say every value is present."""
    n = len(values)
    levels = _varint(n << 1) + b"\x01"  # one RLE run of n ones (bit width 1)
    body = struct.pack("<I", len(levels)) + levels + _plain(values, is_int)
    header = (
        _Struct()
        .i32(1, _DATA_PAGE)
        .i32(2, len(body))
        .i32(3, len(body))
        .struct(5, _Struct().i32(1, n).i32(2, _PLAIN).i32(3, _RLE).i32(4, _RLE))
    )
    return header.bytes() + body


def parquet_bytes(
    columns: Sequence[tuple[str, Sequence[str] | Sequence[int]]],
    metadata: dict[str, str] | None = None,
    int_columns: frozenset[str] = frozenset(),
) -> bytes:
    """A Parquet file of `columns` [(name, values)], all of one length: lists of str (UTF-8
    strings), or of int (int64) for the names in `int_columns`; `metadata` goes into the
    file's key-value metadata. With no rows the file has no row group."""
    rows = len(columns[0][1]) if columns else 0
    if any(len(values) != rows for _, values in columns):
        raise ValueError("columns differ in length")
    out = bytearray(MAGIC)
    schema = [_Struct().string(4, "schema").i32(5, len(columns))]
    chunks = []
    for name, values in columns:
        is_int = name in int_columns
        element = _Struct().i32(1, _INT64 if is_int else _BYTE_ARRAY).i32(3, _OPTIONAL)
        element.string(4, name)
        if not is_int:
            # converted_type UTF8 and logicalType STRING: a string column, not raw bytes.
            element.i32(6, _UTF8).struct(10, _Struct().struct(1, _Struct()))
        schema.append(element)
        if not rows:
            continue
        start = len(out)
        for a in range(0, rows, _ROWS_PER_PAGE):
            out += _page(values[a : a + _ROWS_PER_PAGE], is_int)
        size = len(out) - start
        meta = (
            _Struct()
            .i32(1, _INT64 if is_int else _BYTE_ARRAY)
            .list(2, _I32, [_PLAIN, _RLE])
            .list(3, _BINARY, [name])
            .i32(4, _UNCOMPRESSED)
            .i64(5, rows)
            .i64(6, size)
            .i64(7, size)
            .i64(9, start)
        )
        chunks.append((_Struct().i64(2, start).struct(3, meta), size))
    groups = []
    if rows:
        group = _Struct().list(1, _STRUCT, [c for c, _ in chunks])
        groups.append(group.i64(2, sum(size for _, size in chunks)).i64(3, rows))
    footer = _Struct().i32(1, 1).list(2, _STRUCT, schema).i64(3, rows).list(4, _STRUCT, groups)
    if metadata:
        pairs = [_Struct().string(1, k).string(2, v) for k, v in metadata.items()]
        footer.list(5, _STRUCT, pairs)
    footer.string(6, CREATED_BY)
    raw = footer.bytes()
    out += raw + struct.pack("<I", len(raw)) + MAGIC
    return bytes(out)
