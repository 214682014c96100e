"""What a scan of a data folder found: kept images per group, skipped files
and why, notes about the layout, and image size statistics.

The same report is logged when a loader runs and printed by `zoo data check`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import statistics
import threading
from collections import Counter

from zoo.text import format_table

logger = logging.getLogger("zoo.data")

MAX_LISTED = 5


@dataclasses.dataclass
class Skipped:
    """One file that was not used.

    Args:
        path: the file, relative to the scanned folder where possible.
        category: a short label used to count skips of the same kind.
        reason: the full explanation shown to the user.
    """

    path: str
    category: str
    reason: str


@dataclasses.dataclass
class DataReport:
    """The findings of one scan. Loaders fill it in; `format()` renders it.

    Args:
        root: the folder (or source name) that was scanned.
        kind: "classification", "pairs" or "unpaired".
        layout: a phrase naming the layout that was recognised.
        counts: kept images (or pairs) per class, domain or split.
        skipped: files that were not used, in the order they were met.
        notes: remarks that are not about one file (empty class folders...).
        sizes: path -> (width, height) of every kept image, for the statistics.
    """

    root: str
    kind: str
    layout: str = ""
    counts: dict[str, int] = dataclasses.field(default_factory=dict)
    skipped: list[Skipped] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    sizes: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        # Decoder threads report truncated files while the main thread reads.
        self._lock = threading.Lock()
        self._skipped_paths: set[str] = set()

    def skip(self, path: str, category: str, reason: str | None = None) -> None:
        """Record a file that will not be used.

        Args:
            path: the file.
            category: short label, e.g. "not an image".
            reason: full explanation; defaults to the category.
        """
        with self._lock:
            # Folders are listed more than once (for files, then for subfolders).
            if path in self._skipped_paths:
                return
            self._skipped_paths.add(path)
            self.skipped.append(Skipped(self._relative(path), category, reason or category))
            self.sizes.pop(path, None)

    def note(self, text: str) -> None:
        """Record a remark about the layout rather than about one file."""
        with self._lock:
            self.notes.append(text)

    def uncount(self, group: str) -> None:
        """Take back one kept item of `group` (it failed to decode later)."""
        with self._lock:
            self.counts[group] = self.counts.get(group, 0) - 1

    @property
    def kept(self) -> int:
        return sum(self.counts.values())

    def size_stats(self) -> dict[str, tuple[int, int, int]] | None:
        """min, median and max of widths and heights, or None without images."""
        if not self.sizes:
            return None
        widths = [w for w, _ in self.sizes.values()]
        heights = [h for _, h in self.sizes.values()]
        return {name: (min(v), int(statistics.median(v)), max(v))
                for name, v in (("width", widths), ("height", heights))}

    def summary(self) -> str:
        """One line: kept count, skip count by category."""
        text = f"{self.root}: kept {self.kept} ({self.kind})"
        if self.skipped:
            by_category = Counter(s.category for s in self.skipped)
            text += f", skipped {len(self.skipped)} files (" + ", ".join(
                f"{n} {c}" for c, n in by_category.most_common()) + ")"
        return text

    def format(self, max_listed: int = MAX_LISTED) -> str:
        """The full human-readable report.

        Args:
            max_listed: how many skipped files to name (all are counted).
        """
        unit = "pairs" if self.kind == "pairs" else "images"
        lines = [f"{_printable(self.root)}: {self.kind}"
                 + (f" ({self.layout})" if self.layout else "")]
        lines.append(f"  kept {self.kept} {unit} in {len(self.counts)} groups:")
        if self.counts:
            lines.append(format_table([(_printable(g), n) for g, n in self.counts.items()],
                                      indent="    "))
        if self.skipped:
            lines.append(f"  skipped {len(self.skipped)} files:")
            by_category = Counter(s.category for s in self.skipped).most_common()
            lines.append(format_table([(n, category) for category, n in by_category],
                                      align="rl", indent="    "))
            lines.append(f"  first {min(max_listed, len(self.skipped))} skipped:")
            lines += [f"    {_printable(s.path)}: {_printable(s.reason)}"
                      for s in self.skipped[:max_listed]]
        else:
            lines.append("  skipped 0 files")
        if self.notes:
            lines.append("  notes:")
            lines += [f"    {_printable(n)}" for n in self.notes]
        stats = self.size_stats()
        if stats:
            lines.append(format_table([(name, *values) for name, values in stats.items()],
                                      ["image size", "min", "median", "max"], align="lrrr",
                                      indent="  "))
        return "\n".join(lines)

    def log(self) -> None:
        """Log the summary: a warning when files were skipped, else info."""
        if self.skipped or self.notes:
            logger.warning("%s", self.format())
        else:
            logger.info("%s", self.summary())

    def _relative(self, path: str) -> str:
        try:
            return os.path.relpath(path, self.root)
        except ValueError:
            return path


def _printable(text: str) -> str:
    # File names that are not valid UTF-8 arrive as surrogate escapes, which
    # would make print() raise; show the bad bytes as replacement characters.
    return str(text).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
