"""Class folders: the messy corpus, structural errors, splits, and the loader's
output (shapes, dtypes, ranges, labels), in memory and streamed."""

import logging
import os

import numpy as np
import pytest

from zoo.data import check_folder, load_classification, load_test
from zoo.errors import DataError


def count(dataset):
    return sum(int(images.shape[0]) for images, _ in dataset)


def test_messy_folder_every_entry_has_its_expected_outcome(messy_classes, draw):
    report = check_folder(messy_classes)
    assert report.kind == "classification"
    assert report.counts == {"cats": len(draw.EXPECTED_KEPT["cats"]),
                             "dogs": len(draw.EXPECTED_KEPT["dogs"])}
    skipped = {s.path: s.category for s in report.skipped}
    assert skipped == draw.EXPECTED_SKIPPED
    for name in draw.EXPECTED_NOTES:
        assert any(name in note for note in report.notes)
    stats = report.size_stats()
    assert stats["width"][0] == 1 and stats["height"][0] == 1  # the tiny image


def test_messy_report_formats_counts_reasons_and_sizes(messy_classes):
    text = check_folder(messy_classes).format(max_listed=3)
    assert "kept 18 images in 2 groups" in text
    assert f"skipped {14} files" in text
    assert "decompression bomb" in text and "first 3 skipped" in text
    assert "width" in text and "median" in text
    text.encode("utf-8")  # non-UTF-8 file names are printable


def test_messy_folder_loads_what_check_keeps(messy_classes, draw, caplog):
    with caplog.at_level(logging.WARNING, logger="zoo.data"):
        train, val, names = load_classification(messy_classes, (12, 10), batch_size=4,
                                                validation_split=0.25)
    assert names == ["cats", "dogs"]
    kept = sum(len(v) for v in draw.EXPECTED_KEPT.values())
    assert count(train) + count(val) == kept
    assert "truncated or corrupt" in caplog.text and "skipped" in caplog.text
    images, labels = next(iter(train))
    assert images.dtype.name == "uint8" and labels.dtype.name == "int32"
    assert tuple(images.shape[1:]) == (12, 10, 3)


def test_user_folder_is_never_modified(messy_classes, draw, tmp_path):
    before = draw.tree_fingerprint(messy_classes)
    check_folder(messy_classes)
    train, val, _ = load_classification(messy_classes, 8, batch_size=8, memory_budget=0,
                                        cache_dir=str(tmp_path / "cache"))
    count(train), count(val)
    assert draw.tree_fingerprint(messy_classes) == before


def test_output_shapes_dtypes_range_and_labels(class_folder):
    root = class_folder(counts={"apple": 10, "banana": 5, "cherry": 5})
    train, val, names = load_classification(root, (20, 30), batch_size=4, seed=3)
    assert names == ["apple", "banana", "cherry"]
    images = np.concatenate([x.numpy() for x, _ in train])
    labels = np.concatenate([y.numpy() for _, y in train])
    val_labels = np.concatenate([y.numpy() for _, y in val])
    assert images.shape == (16, 20, 30, 3) and images.dtype == np.uint8
    assert images.max() > 200 and images.min() < 50
    # round(0.2 * n) of each class is held out, so every class is validated.
    assert sorted(val_labels.tolist()) == [0, 0, 1, 2]
    assert np.bincount(labels).tolist() == [8, 4, 4]


def test_validation_split_is_reproducible_and_shuffling_varies(class_folder):
    root = class_folder(counts={"a": 10, "b": 10})
    first = load_classification(root, 8, batch_size=20, seed=1, shuffle=False)[1]
    again = load_classification(root, 8, batch_size=20, seed=1, shuffle=False)[1]
    assert np.array_equal(next(iter(first))[0], next(iter(again))[0])
    train = load_classification(root, 8, batch_size=16, seed=1)[0]
    epoch1, epoch2 = (next(iter(train))[1].numpy().tolist() for _ in range(2))
    assert sorted(epoch1) == sorted(epoch2)


def test_no_validation_split_gives_no_validation_set(class_folder):
    train, val, _ = load_classification(class_folder(), 8, validation_split=0)
    assert val is None and count(train) == 10


def test_streamed_pipeline_matches_and_caches_outside_the_folder(
        messy_classes, draw, tmp_path, caplog):
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger="zoo.data"):
        train, val, _ = load_classification(messy_classes, 8, batch_size=4, memory_budget=0,
                                            cache_dir=str(cache))
        total = count(train) + count(val)
    assert total == sum(len(v) for v in draw.EXPECTED_KEPT.values())
    assert "truncated" in caplog.text  # found during the first epoch
    assert os.listdir(cache)
    assert count(train) + count(val) == total  # second epoch, from the cache


def test_split_folders_with_test(tmp_path, draw):
    root = tmp_path / "splits"
    for split, n in (("train", 4), ("val", 2), ("test", 3)):
        for cls in ("x", "y"):
            for i in range(n):
                draw.save(draw.noise(seed=i), root / split / cls / f"{i}.png")
    draw.save(draw.noise(), root / "test" / "z" / "0.png")  # class unknown to train/
    train, val, names = load_classification(str(root), 8, batch_size=100)
    assert names == ["x", "y"] and count(train) == 8 and count(val) == 4
    test, test_names = load_test(str(root), 8, batch_size=100)
    assert test_names == names and count(test) == 6
    report = check_folder(str(root))
    assert report.counts["test/x"] == 3 and "test/z" not in report.counts
    assert any(s.category == "class not in train/" for s in report.skipped)


def test_load_test_without_a_test_folder_explains(class_folder):
    with pytest.raises(DataError, match="no test split.*expected .*/test/<class>"):
        load_test(class_folder(), 8)


@pytest.mark.parametrize("layout, message", [
    ({}, r"No images found in class folders of .*Expected layout: FOLDER/<class>/<image>"),
    ({"a/readme.txt": "text", "b/empty.jpg": ""},
     r"No images found .*skipped 2 unusable files.*Expected layout"),
    ({"cats/0.png": None, "cats/1.png": None, "dogs/x.txt": "text"},
     r"Only one class in .*'cats' \(2 images\).*at least two.*Expected layout"),
    ({"only.png": None},
     r"No images found .*skipped 1 unusable files.*Expected layout"),
])
def test_structural_problems_are_data_errors(tmp_path, draw, layout, message):
    root = tmp_path / "bad"
    root.mkdir()
    for name, text in layout.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            draw.save(draw.noise(), path)
        else:
            path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_classification(str(root), 8)
    with pytest.raises(DataError, match=message):
        check_folder(str(root), kind="classification")


@pytest.mark.parametrize("source, message", [
    ("/no/such/folder", "is not a folder, not 'tfds:NAME' and not an embedded"),
    ("tfds:", "names no data set"),
    (42, "must be a folder path"),
])
def test_bad_sources_are_data_errors(source, message):
    with pytest.raises(DataError, match=message):
        load_classification(source, 8)


def test_a_file_is_not_a_folder(tmp_path):
    path = tmp_path / "x.jpg"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_classification(str(path), 8)


@pytest.mark.parametrize("size", [0, (8,), "big", (8, -1)])
def test_bad_image_size(class_folder, size):
    with pytest.raises(DataError, match="image_size"):
        load_classification(class_folder(), size)
