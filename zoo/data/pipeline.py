"""Turn a list of decodable items into a fast, batched tf.data pipeline.

Two ways, chosen by how much memory the decoded data needs:

* In memory (decoded size <= the budget, by default the smaller of 2 GiB and a
  quarter of RAM): every item is decoded at once by a thread pool (PIL
  releases the GIL while decoding and resizing), into one preallocated uint8
  array. Each epoch then only shuffles indices and gathers, as fast as a
  dataset built from arrays. All unusable files are known before training.
* Streamed: items are decoded by a tf.data map (num_parallel_calls=AUTOTUNE)
  during the first epoch and cached to a file under the cache dir
  ($ZOO_DATA_CACHE, else ~/.cache/zoo/data); later epochs read the cache.
  Files that turn out to be corrupt then, or were deleted or rewritten
  since the folder was listed, are dropped, logged and counted in the
  report; the epoch goes on.

Images are uint8 everywhere; labels are int32.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import logging
import os
from typing import Callable, Sequence

import numpy as np

from zoo.data.images import UnusableImage
from zoo.data.report import DataReport
from zoo.data.scan import skip_category

logger = logging.getLogger("zoo.data")

GIB = 1024 ** 3

# One element: a tuple of arrays, e.g. (image, label) or (image_a, image_b).
Decoder = Callable[[object], tuple]
Spec = Sequence[tuple[tuple[int, ...], type]]


def default_memory_budget() -> int:
    """Bytes of decoded data kept in memory: min(2 GiB, a quarter of RAM)."""
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 8 * GIB
    return min(2 * GIB, ram // 4)


def default_data_cache_dir() -> str:
    """$ZOO_DATA_CACHE, else ~/.cache/zoo/data. Never inside the user's data."""
    return os.environ.get("ZOO_DATA_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "zoo", "data")


class Decoded:
    """Decoded elements, held in memory or streamed through a file cache.

    Args:
        arrays: in memory: one array per element component, first axis n.
        streamed: otherwise: an unbatched, cached tf.data.Dataset.
        n: number of elements (an upper bound when streamed: corrupt files
            found during the first epoch are dropped).
    """

    def __init__(self, arrays=None, streamed=None, n: int = 0):
        self.arrays = arrays
        self.streamed = streamed
        self.n = len(arrays[0]) if arrays is not None else n

    @property
    def in_memory(self) -> bool:
        return self.arrays is not None

    def batches(self, batch_size: int, *, shuffle: bool, seed: int | None,
                augment: Callable | None = None):
        """The batched, prefetched dataset.

        Args:
            batch_size: elements per batch; the last batch may be smaller.
            shuffle: reshuffle every epoch.
            seed: shuffle seed.
            augment: element -> element, applied after decoding and caching, so
                that it differs every epoch.
        """
        import tensorflow as tf

        autotune = tf.data.AUTOTUNE
        if not self.in_memory:
            dataset = self.streamed
            if shuffle:
                dataset = dataset.shuffle(max(min(self.n, 1024), 1), seed=seed)
            if augment is not None:
                dataset = dataset.map(augment, num_parallel_calls=autotune)
            return dataset.batch(batch_size).prefetch(autotune)

        # Shuffling indices and gathering is cheaper than a shuffle buffer of
        # images (no copies, no second gigabyte).
        tensors = tuple(tf.convert_to_tensor(a) for a in self.arrays)

        def gather(index):
            return _unwrap(tuple(tf.gather(t, index) for t in tensors))

        dataset = tf.data.Dataset.range(self.n)
        if shuffle:
            dataset = dataset.shuffle(max(self.n, 1), seed=seed)
        if augment is None:
            return dataset.batch(batch_size).map(
                gather, num_parallel_calls=autotune).prefetch(autotune)

        def element(index):
            parts = gather(index)
            return augment(*parts) if len(tensors) > 1 else augment(parts)

        dataset = dataset.map(element, num_parallel_calls=autotune)
        return dataset.batch(batch_size).prefetch(autotune)


def _unwrap(element: tuple):
    """Single-component elements are plain tensors, not 1-tuples."""
    return element[0] if len(element) == 1 else element


def decode_items(items: list, decode: Decoder, spec: Spec, report: DataReport,
                 groups: list[str], *, memory_budget: int | None = None,
                 cache_dir: str | None = None, cache_key: str = "") -> Decoded:
    """Decode items in memory when they fit the budget, else stream them.

    Args:
        items: one entry per element, passed to `decode`.
        decode: item -> tuple of arrays matching `spec`; raises UnusableImage.
        spec: (shape, numpy dtype) of each array in an element.
        report: unusable items are recorded here (and their group uncounted).
        groups: the report group of each item, to keep the counts right.
        memory_budget: bytes; default `default_memory_budget()`.
        cache_dir: where streamed data is cached; default `default_data_cache_dir()`.
        cache_key: anything that identifies the data (source, size...).
    """
    budget = default_memory_budget() if memory_budget is None else memory_budget
    element_bytes = sum(int(np.prod(shape)) * np.dtype(dtype).itemsize for shape, dtype in spec)
    if element_bytes * len(items) <= budget:
        arrays = _decode_in_memory(items, decode, spec, report, groups)
        return Decoded(arrays=arrays)
    streamed = _streamed(items, decode, spec, report, groups,
                         cache_dir or default_data_cache_dir(), cache_key)
    return Decoded(streamed=streamed, n=len(items))


def decode_workers() -> int:
    """Threads for decoding: PIL releases the GIL, so a few per core pay off."""
    return min(32, 2 * (os.cpu_count() or 1) + 2)


def _decode_in_memory(items, decode, spec, report, groups) -> tuple[np.ndarray, ...]:
    arrays = tuple(np.empty((len(items), *shape), dtype=dtype) for shape, dtype in spec)
    kept = 0
    with concurrent.futures.ThreadPoolExecutor(decode_workers()) as pool:
        # map() yields in order, so usable elements are packed to the front
        # in place and the array is never copied.
        for item, group, result in zip(items, groups, pool.map(_try(decode), items)):
            if isinstance(result, UnusableImage):
                _record(report, item, group, result)
                continue
            for array, value in zip(arrays, result):
                array[kept] = value
            kept += 1
    return tuple(a[:kept] for a in arrays)


def _streamed(items, decode, spec, report, groups, cache_dir, cache_key):
    import tensorflow as tf

    safe_decode = _try(decode)

    def load(index):
        result = safe_decode(items[int(index)])
        if isinstance(result, UnusableImage):
            _record(report, items[int(index)], groups[int(index)], result, late=True)
            blanks = tuple(np.zeros(shape, dtype) for shape, dtype in spec)
            return (*blanks, False)
        return (*(np.asarray(v, dtype) for v, (_, dtype) in zip(result, spec)), True)

    def load_tensor(index):
        out = tf.numpy_function(load, [index], [tf.as_dtype(d) for _, d in spec] + [tf.bool])
        for tensor, (shape, _) in zip(out, spec):
            tensor.set_shape(shape)
        return tuple(out)

    os.makedirs(cache_dir, exist_ok=True)
    cache_file = os.path.join(cache_dir, hashlib.sha1(cache_key.encode()).hexdigest()[:16])
    dataset = tf.data.Dataset.range(len(items)).map(
        load_tensor, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.filter(_decoded_ok).map(_without_flag)
    return dataset.cache(cache_file)


def _decoded_ok(*element):
    return element[-1]


def _without_flag(*element):
    return _unwrap(element[:-1])


def _try(decode: Decoder) -> Callable:
    """`decode`, with an unusable item returned as its UnusableImage.

    A file can change between the listing and the read (deleted, rewritten,
    on a network share that went away): a decoder that lets such an OSError
    through still costs one skipped file, never the epoch.
    """
    def attempt(item):
        try:
            return decode(item)
        except UnusableImage as exc:
            return exc
        except OSError as exc:
            path = exc.filename or (item[0] if isinstance(item, tuple) else item)
            reason = ("missing (deleted after the folder was listed)"
                      if isinstance(exc, FileNotFoundError)
                      else f"cannot read ({exc.strerror or exc})")
            return UnusableImage(reason, path=str(path))
    return attempt


def _record(report: DataReport, item, group: str, error: UnusableImage,
            late: bool = False) -> None:
    """Count a file that failed to decode. `late`: found while streaming,
    after the report was logged, so it gets a warning of its own."""
    path = error.path or (item[0] if isinstance(item, tuple) else item)
    report.skip(str(path), skip_category(str(error)), str(error))
    report.uncount(group)
    if late:
        logger.warning("skipped %s: %s", path, error)
