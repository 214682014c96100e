"""TensorFlow Datasets sources: "tfds:NAME[/CONFIG]".

TFDS's own settings apply: its data dir ($TFDS_DATA_DIR, else
~/tensorflow_datasets, or the `data_dir` argument) and its download. A data
set that is not prepared in the data dir is downloaded when `download=True`.

Offline, TFDS's downloader retries for minutes before it gives up, so a
two-second connection probe runs first; either failure becomes one DataError
naming the data set, the data dir and the remedy.
"""

from __future__ import annotations

import socket


from zoo.errors import DataError

PROBE_HOST = ("storage.googleapis.com", 443)
PROBE_TIMEOUT_S = 2.0
UNPAIRED_SPLITS = ("trainA", "trainB", "testA", "testB")


def prepared_builder(name: str, data_dir: str | None = None, download: bool = True):
    """A TFDS builder whose data is ready to read.

    Args:
        name: "NAME" or "NAME/CONFIG" (an optional ":VERSION" as TFDS takes it).
        data_dir: TFDS data dir; None for TFDS's default.
        download: download and prepare the data set if it is missing.

    Raises:
        DataError: unknown name, or data missing and not downloadable.
    """
    import tensorflow_datasets as tfds

    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as exc:  # noqa: BLE001 - TFDS raises many kinds for a bad name
        raise DataError(f"TFDS has no data set 'tfds:{name}' ({_first_line(exc)}). "
                        "See https://www.tensorflow.org/datasets/catalog for names.") from None
    if builder.is_prepared():
        return builder
    where = builder.data_dir
    remedy = (f"Download it on a connected machine (python -c \"import tensorflow_datasets as "
              f"tfds; tfds.builder('{name}').download_and_prepare()\"), copy that machine's "
              f"TFDS data dir ({builder.name} under ~/tensorflow_datasets or $TFDS_DATA_DIR) "
              "here, and point TFDS_DATA_DIR or data_dir= at it.")
    if not download:
        raise DataError(f"TFDS data set 'tfds:{name}' is not prepared in {where} and "
                        f"download=False. {remedy}")
    try:
        _probe_connection()
        builder.download_and_prepare()
    except Exception as exc:  # noqa: BLE001 - network, disk and TFDS errors all mean the same
        raise DataError(f"TFDS data set 'tfds:{name}' is not prepared in {where} and could not "
                        f"be downloaded ({_first_line(exc)}). {remedy}") from None
    return builder


def load_classification(name, size, batch_size, validation_split, seed, *, shuffle,
                        data_dir, download, memory_budget, cache_dir):
    """(train, val, class_names) from a TFDS data set with an image and a label.

    Uses the data set's "validation" split when it has one, else holds out the
    last `validation_split` of "train" (TFDS split slicing, deterministic).
    Arguments as in `zoo.data.load_classification`.
    """
    builder = prepared_builder(name, data_dir, download)
    image_key, label_key = _image_and_label(builder, name)
    if "validation" in builder.info.splits:
        train_split, val_split = "train", "validation"
    elif validation_split > 0:
        percent = round(100 * (1 - validation_split))
        train_split, val_split = f"train[:{percent}%]", f"train[{percent}%:]"
    else:
        train_split, val_split = "train", None

    def labelled(split, shuffled):
        dataset = builder.as_dataset(split=split).map(
            lambda ex: (_resize(ex[image_key], size), tf_cast_int32(ex[label_key])),
            num_parallel_calls=_autotune())
        return cache_and_batch(dataset, builder, split, name, size, batch_size,
                               shuffle=shuffled, seed=seed, memory_budget=memory_budget,
                               cache_dir=cache_dir)

    class_names = list(builder.info.features[label_key].names)
    val = labelled(val_split, False) if val_split else None
    return labelled(train_split, shuffle), val, class_names


def load_classification_test(name, size, batch_size, *, data_dir, download, memory_budget,
                             cache_dir):
    """(test, class_names) from the "test" split of a TFDS data set."""
    builder = prepared_builder(name, data_dir, download)
    image_key, label_key = _image_and_label(builder, name)
    splits = list(builder.info.splits)
    if splits and "test" not in splits:
        raise DataError(f"TFDS data set 'tfds:{name}' has no test split (it has: "
                        f"{', '.join(splits)}).")
    dataset = builder.as_dataset(split="test").map(
        lambda ex: (_resize(ex[image_key], size), tf_cast_int32(ex[label_key])),
        num_parallel_calls=_autotune())
    test = cache_and_batch(dataset, builder, "test", name, size, batch_size, shuffle=False,
                           seed=None, memory_budget=memory_budget, cache_dir=cache_dir)
    return test, list(builder.info.features[label_key].names)


def unpaired_images(name, size, *, data_dir, download):
    """{split: unbatched dataset of uint8 images} for trainA, trainB, testA, testB.

    For "cycle_gan/<config>" and any data set with those four splits.
    """
    builder = prepared_builder(name, data_dir, download)
    image_key, _ = _image_and_label(builder, name, need_label=False)
    known = list(builder.info.splits)
    missing = [s for s in UNPAIRED_SPLITS if known and s not in known]
    if missing:
        raise DataError(f"TFDS data set 'tfds:{name}' is not an unpaired set: it lacks the splits "
                        f"{', '.join(missing)} (it has {', '.join(known)}); expected "
                        f"{', '.join(UNPAIRED_SPLITS)} as in tfds:cycle_gan/horse2zebra.")
    return {split: builder.as_dataset(split=split).map(
        lambda ex: _resize(ex[image_key], size), num_parallel_calls=_autotune())
        for split in UNPAIRED_SPLITS}, builder


def num_examples(builder, split: str) -> int:
    """Examples in a split (0 when TFDS does not know, e.g. under mock_data)."""
    try:
        return int(builder.info.splits[split].num_examples)
    except Exception:  # noqa: BLE001 - unknown split names, slices of unknown sizes
        return 0


def tf_cast_int32(tensor):
    import tensorflow as tf

    return tf.cast(tensor, tf.int32)


def _resize(image, size):
    """Any TFDS image (h, w, 1 or 3) -> uint8 (height, width, 3)."""
    import tensorflow as tf

    if image.shape[-1] == 1:
        image = tf.image.grayscale_to_rgb(image)
    resized = tf.image.resize(image, size, method="bilinear", antialias=True)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def cache_and_batch(dataset, builder, split, name, size, batch_size, *, shuffle, seed,
                    augment=None, memory_budget=None, cache_dir=None):
    """Cache decoded images (in memory when they fit the budget, else in a
    file), then shuffle, augment, batch and prefetch.

    Args:
        dataset: unbatched, resized elements of one split.
        builder: the TFDS builder, for the split's size.
        split: the split (or slice) name, part of the cache file name.
        name: the data set name, part of the cache file name.
        size: (height, width), part of the cache file name.
        batch_size: elements per batch.
        shuffle: reshuffle every epoch.
        seed: shuffle seed.
        augment: element -> element after the cache.
        memory_budget: bytes; default `zoo.data.pipeline.default_memory_budget()`.
        cache_dir: default `zoo.data.pipeline.default_data_cache_dir()`.
    """
    import os

    import tensorflow as tf

    from zoo.data.pipeline import default_data_cache_dir, default_memory_budget

    budget = default_memory_budget() if memory_budget is None else memory_budget
    n = num_examples(builder, split.split("[")[0])
    if n * size[0] * size[1] * 3 <= budget:
        dataset = dataset.cache()
    else:
        folder = os.path.join(cache_dir or default_data_cache_dir(), "tfds")
        os.makedirs(folder, exist_ok=True)
        safe = f"{name}-{split}-{size[0]}x{size[1]}".replace("/", "_").replace("%", "pc")
        dataset = dataset.cache(os.path.join(folder, safe))
    if shuffle:
        dataset = dataset.shuffle(max(1, min(n or 1024, 10_000)), seed=seed)
    if augment is not None:
        dataset = dataset.map(augment, num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _image_and_label(builder, name, need_label=True):
    import tensorflow_datasets as tfds

    features = builder.info.features
    images = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
    labels = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
    supervised = builder.info.supervised_keys
    if supervised and len(supervised) == 2 and isinstance(supervised[0], str):
        images = [supervised[0]] + images
        labels = [supervised[1]] + labels
    if not images or (need_label and not labels):
        raise DataError(f"TFDS data set 'tfds:{name}' has no "
                        f"{'image' if not images else 'class label'} feature (features: "
                        f"{', '.join(features.keys())}); zoo needs an Image"
                        f"{' and a ClassLabel' if need_label else ''}.")
    return images[0], (labels[0] if labels else None)


def _probe_connection() -> None:
    try:
        socket.create_connection(PROBE_HOST, timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise ConnectionError(f"no network: cannot reach {PROBE_HOST[0]}: {exc}") from None


def _autotune():
    import tensorflow as tf

    return tf.data.AUTOTUNE


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]
