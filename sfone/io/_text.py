"""Strict parsing of delimited text tables, shared by the text loaders (imaging, calorimetry).

:func:`parse_table` turns lines of text into a table of strings in which every failure is a
:class:`~sfone.exceptions.FormatError` naming the file line: rows with more fields than the header
(decimal commas, merged lines), repeated column names, a missing header. The table's
``attrs["line_numbers"]`` holds the 1-based file line of each row, for messages further on.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from .._guard import read_head
from .._logging import warn
from ..exceptions import DataRepairWarning, FormatError

__all__ = ["parse_table", "LineNumbers", "text_encoding", "csv_parse_error", "csv_header"]


class LineNumbers(tuple):
    """File line numbers of a table's rows, kept in ``DataFrame.attrs``.

    Immutable, so a deep copy is the object itself: pandas deep-copies ``attrs`` on every
    column access, which for a list of 4,000 ints cost more than parsing the file.
    """

    __slots__ = ()

    def __deepcopy__(self, memo):
        return self


def parse_table(lines: list[str], *, path, line_numbers: list[int] | None = None,
                what: str = "data table", sep: str = ",", names: list[str] | None = None,
                skipinitialspace: bool = False, allow_empty: bool = False,
                min_fields: int | None = None, drop_cut_last_row: bool = True) -> pd.DataFrame:
    """Parse text lines into a table of strings, strictly; every failure is a ``FormatError``.

    Blank lines are skipped. Without ``names`` the first line is the header: names must be unique
    and non-empty. A row with more fields than the header (or ``names``) is an error naming its
    line; rows with fewer are padded with ``""``.

    Parameters
    ----------
    lines : list of str
        The table's lines, header first unless ``names`` is given.
    line_numbers : list of int, optional
        1-based line number in the file of each entry of ``lines`` (default: 1, 2, ...).
    what : str
        Name of the table in error messages (e.g. "data block after ':DATA'").
    allow_empty : bool
        A header without rows gives an empty table instead of an error.
    min_fields : int, optional
        Fields of a complete row (default: all columns). With ``drop_cut_last_row`` a shorter
        LAST row is a file cut off mid-line and is dropped with a ``DataRepairWarning``.
    """
    numbers = list(line_numbers) if line_numbers is not None else list(range(1, len(lines) + 1))
    kept = [(n, line) for n, line in zip(numbers, lines, strict=True) if line.strip(sep + " \t")]
    if not kept or (names is None and len(kept) < 2 and not allow_empty):
        found = f"only the header line {kept[0][0]}" if kept else "no header or data lines"
        raise FormatError(f"{what}: {found}, expected a header and data rows", path=path)
    if names is not None:  # a stand-in header line: pandas then refuses longer rows
        kept.insert(0, (0, sep.join(f"c{i}" for i in range(len(names)))))
    try:
        table = pd.read_csv(io.StringIO("\n".join(line for _, line in kept)), sep=sep,
                            header=None, dtype=str, index_col=False,
                            skipinitialspace=skipinitialspace, skip_blank_lines=False,
                            keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise FormatError(f"{what}: {_renumber(str(exc), [n for n, _ in kept])}",
                          path=path) from None
    header = list(names) if names is not None else [str(h).strip() for h in table.iloc[0]]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        where = f"header (line {kept[0][0]})" if names is None else "column header"
        raise FormatError(f"{what}: the {where} repeats the name(s) {repeated}; expected "
                          "unique names", path=path)
    table = table.iloc[1:].reset_index(drop=True)
    table.columns = header
    table.attrs["line_numbers"] = LineNumbers(n for n, _ in kept[1:])
    if not drop_cut_last_row:
        return table
    n_fields = kept[-1][1].count(sep) + 1  # of the last row (pandas pads short rows with "")
    table = _drop_cut_last_row(table, n_fields, min_fields or len(header), what, path)
    if table.empty and not allow_empty:  # the only data row was cut off
        raise FormatError(f"{what}: only the header line {kept[0][0]}, expected a header and "
                          "data rows", path=path)
    return table


def _drop_cut_last_row(table: pd.DataFrame, n_fields: int, min_fields: int, what: str,
                       path) -> pd.DataFrame:
    """A last row with fewer fields than the header is a file cut off mid-line: drop it, warn."""
    if table.empty or n_fields >= min_fields:
        return table
    line = table.attrs["line_numbers"][-1]
    warn(f"{path}: {what}: the last line ({line}) has only {n_fields} of {min_fields} fields "
         "(file cut off?); dropped", DataRepairWarning)
    lines = LineNumbers(table.attrs["line_numbers"][:-1])
    table = table.iloc[:-1].copy()
    table.attrs["line_numbers"] = lines
    return table


def _renumber(message: str, file_lines: list[int]) -> str:
    """Pandas' "line N" (N-th parsed line) -> "line <file line>"; a hint for the usual cause."""
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if not match:
        return message
    expected, index, seen = (int(g) for g in match.groups())
    line = file_lines[index - 1] if 0 < index <= len(file_lines) else index
    return (f"line {line} has {seen} fields, expected {expected} (as many as the header); "
            "decimal commas in a comma-separated file or a damaged line?")


def text_encoding(head: bytes) -> str:
    """``"utf-8-sig"`` when ``head`` decodes as UTF-8 (a cut multi-byte tail is allowed), else
    ``"latin-1"`` (every byte is a Latin-1 character: spreadsheet exports in Western locales)."""
    try:
        head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut by the head's end
            return "latin-1"
    return "utf-8-sig"


def csv_parse_error(exc: Exception, *, path, what: str = "CSV") -> FormatError:
    """A :class:`FormatError` explaining a pandas/decoding failure on a delimited text file."""
    if isinstance(exc, UnicodeDecodeError):
        return FormatError(f"not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at position "
                           f"{exc.start}; expected a UTF-8 {what} (re-save it as UTF-8)",
                           path=path)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = ""
    if "Expected" in text and "fields" in text:
        hint = ("; rows have different numbers of fields: decimal commas or a ';' separator "
                "(export with '.' as decimal mark and ',' between fields)")
    elif "No columns to parse" in text:
        hint = "; the file is empty"
    return FormatError(f"cannot parse as {what}: {text}{hint}", path=path)


def csv_header(path, *, max_bytes: int = 65536) -> list[str] | None:
    """The column names on the first line of a comma-separated text file (at most ``max_bytes``
    read), or None when that line is not a CSV header: fewer than two names, binary or
    unprintable text, or no line end within ``max_bytes``. Callers must not quote the line
    then: the file may be anything (a study entry pointing at ``/etc/passwd``)."""
    head = read_head(path, max_bytes)
    if b"\x00" in head:
        return None
    text = head.decode(text_encoding(head), errors="replace").lstrip("\ufeff")
    line, newline, _ = text.partition("\n")
    if not newline and len(head) == max_bytes:
        return None
    names = [c.strip() for c in next(csv.reader([line.rstrip("\r")]), [])]
    if len(names) < 2 or not all(n.isprintable() for n in names):
        return None
    return names
