"""Plain text for the terminal, logs and file names: one table formatter for
all of zoo, and `slug` for names made of user input.

    >>> print(format_table([["resnet50", 224], ["vgg16", 224]], ["name", "size"]))
    name      size
    --------  ----
    resnet50  224
    vgg16     224
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def slug(text: str, length: int = 60) -> str:
    """A name safe in file paths and run names: runs of other characters
    become "_", and the last `length` characters are kept (a long path's end
    says most about it)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_")[-length:] or "data"


def format_table(rows: Sequence[Sequence], headers: Sequence[str] | None = None, *,
                 align: str | None = None, indent: str = "") -> str:
    """Columns padded to their widest cell, two spaces apart.

    Args:
        rows: the cells, row by row; each cell is shown with `str()`.
        headers: column names, underlined with dashes; None for a table
            without a header (a list of label/value pairs).
        align: one letter per column, "l" (left, the default) or "r"
            (right, for numbers), e.g. "lrrr".
        indent: put before every line.

    Returns:
        The table, lines joined by newlines, without trailing spaces.
    """
    rows = [[str(cell) for cell in row] for row in rows]
    header_row = [str(name) for name in headers] if headers is not None else None
    every = ([header_row] if header_row is not None else []) + rows
    columns = max((len(row) for row in every), default=0)
    align = (align or "").ljust(columns, "l")
    if set(align) - {"l", "r"}:
        raise ValueError(f"align takes 'l' and 'r' only, one per column. Received: "
                         f"align={align!r}")
    widths = [max((len(row[i]) for row in every if i < len(row)), default=0)
              for i in range(columns)]

    def line(cells):
        padded = (cell.rjust(width) if side == "r" else cell.ljust(width)
                  for cell, width, side in zip(cells, widths, align))
        return (indent + "  ".join(padded)).rstrip()

    lines = []
    if header_row is not None:
        lines += [line(header_row), indent + "  ".join("-" * width for width in widths)]
    lines += [line(row) for row in rows]
    return "\n".join(lines)
