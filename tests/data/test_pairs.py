"""Pix2Pix pairs: side-by-side A|B images (odd widths too), A/ and B/ folders
with matching and unmatched names, train/test folders, embedded pairs."""

import numpy as np
import pytest
from PIL import Image

from zoo.data import check_folder, load_pairs
from zoo.data.pairs import decode_pair
from zoo.errors import DataError


def side_by_side(path, draw, width=9, height=4):
    """Left floor(w/2) columns red, right floor(w/2) blue, a green middle column
    when the width is odd."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    half = width // 2
    pixels[:, :half] = draw.RED
    pixels[:, width - half:] = draw.BLUE
    if width % 2:
        pixels[:, half] = draw.GREEN
    return draw.save(Image.fromarray(pixels), path)


def pairs_of(dataset):
    return [(a.numpy(), b.numpy()) for a, b in dataset.unbatch()]


def test_odd_width_drops_the_middle_column(tmp_path, draw):
    path = side_by_side(tmp_path / "odd.png", draw, width=9)
    a, b = decode_pair((path, None), (4, 4))
    assert (a == draw.RED).all() and (b == draw.BLUE).all()


def test_side_by_side_folder_with_train_and_test(tmp_path, draw):
    root = tmp_path / "facades"
    for split, n in (("train", 5), ("test", 2)):
        for i in range(n):
            side_by_side(root / split / f"{i}.png", draw, width=16 + i % 2, height=8)
    draw.save(draw.solid((1, 1)), root / "train" / "narrow.png")
    (root / "train" / "junk.txt").write_text("x")
    before = draw.tree_fingerprint(root)
    data = load_pairs(str(root), 8, batch_size=2, augment=False)
    train, test = pairs_of(data.train), pairs_of(data.test)
    assert len(train) == 5 and len(test) == 2
    a, b = train[0]
    assert a.shape == b.shape == (8, 8, 3) and a.dtype == np.uint8
    assert (a == draw.RED).all() and (b == draw.BLUE).all()
    report = check_folder(str(root))
    assert report.kind == "pairs" and report.counts == {"train": 5, "test": 2}
    assert {s.category for s in report.skipped} == {"too narrow for A|B", "not an image"}
    assert draw.tree_fingerprint(root) == before


def test_flat_side_by_side_folder_holds_out_a_test_split(tmp_path, draw):
    for i in range(10):
        side_by_side(tmp_path / "flat" / f"{i}.png", draw, width=8)
    data = load_pairs(str(tmp_path / "flat"), 4, test_split=0.2)
    assert len(pairs_of(data.train)) == 8 and len(pairs_of(data.test)) == 2


def test_two_folders_match_by_name_and_report_the_unmatched(tmp_path, draw):
    root = tmp_path / "ab"
    for i in range(4):
        draw.save(draw.solid(colour=draw.RED), root / "A" / f"{i}.png")
        draw.save(draw.solid(colour=draw.BLUE), root / "B" / f"{i}.jpg", quality=95)
    draw.save(draw.solid(), root / "A" / "only_in_a.png")
    draw.save(draw.solid(), root / "B" / "only_in_b.png")
    draw.save(draw.solid(), root / "B" / "2.png")  # 2.jpg and 2.png: ambiguous
    report = check_folder(str(root))
    assert report.counts == {"train": 3}
    skipped = {s.path: s.category for s in report.skipped}
    assert skipped == {"A/only_in_a.png": "unmatched name", "B/only_in_b.png": "unmatched name",
                       "B/2.jpg": "ambiguous name", "B/2.png": "ambiguous name",
                       "A/2.png": "unmatched name"}
    data = load_pairs(str(root), 6, augment=False, test_split=0.34)
    train = pairs_of(data.train)
    assert len(train) == 2 and len(pairs_of(data.test)) == 1
    a, b = train[0]
    assert (a == draw.RED).all() and (np.abs(b.astype(int) - draw.BLUE) < 10).all()


def test_no_matching_names_is_a_data_error(tmp_path, draw):
    draw.save(draw.solid(), tmp_path / "ab" / "A" / "x.png")
    draw.save(draw.solid(), tmp_path / "ab" / "B" / "y.png")
    with pytest.raises(DataError, match=r"No file names match .*'x'.*'y'.*A/0001.png"):
        load_pairs(str(tmp_path / "ab"), 8)


def test_a_without_b_is_a_data_error(tmp_path, draw):
    draw.save(draw.solid(), tmp_path / "ab" / "A" / "x.png")
    with pytest.raises(DataError, match=r"has A/ but no B/ folder.*Expected layout"):
        check_folder(str(tmp_path / "ab"), kind="pairs")


def test_empty_folder_is_a_data_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"No usable image pairs .*found no subfolders"
                                        r".*Expected layout"):
        load_pairs(str(tmp_path / "empty"), 8)


def test_augmentation_crops_and_flips_a_and_b_together(tmp_path, draw):
    for i in range(3):
        draw.save(Image.fromarray(np.hstack([np.asarray(draw.noise((16, 16), seed=i))] * 2)),
                  tmp_path / "same" / f"{i}.png")
    data = load_pairs(str(tmp_path / "same"), 16, test_split=0, seed=5)
    assert data.test is None
    for _ in range(3):
        for a, b in pairs_of(data.train):
            assert np.array_equal(a, b)


@pytest.mark.parametrize("name", ["edges2photos", "gray2color"])
def test_embedded_pairs(name):
    data = load_pairs(name, 32, batch_size=16, augment=False, shuffle=False)
    a, b = next(iter(data.train))
    assert a.shape == b.shape == (16, 32, 32, 3) and a.dtype.name == "uint8"
    a, b = a.numpy().astype(int), b.numpy().astype(int)
    assert (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all()  # gray
    assert np.abs(b[..., 0] - b[..., 2]).mean() > 5  # colour photos
    if name == "edges2photos":
        assert set(np.unique(a).tolist()) == {0, 255}  # black lines on white
        assert 0.01 < (a == 0).mean() < 0.5
    assert sum(1 for _ in data.train.unbatch()) == 384
    assert sum(1 for _ in data.test.unbatch()) == 32


def test_b_to_a_swaps_every_pair_train_and_test(tmp_path, draw):
    root = tmp_path / "facades"
    for split, n in (("train", 3), ("test", 2)):
        for i in range(n):
            side_by_side(root / split / f"{i}.png", draw, width=16, height=8)
    forward = load_pairs(str(root), 8, augment=False, shuffle=False)
    backward = load_pairs(str(root), 8, augment=False, shuffle=False, direction="BtoA")
    for split in ("train", "test"):
        pairs = pairs_of(getattr(backward, split))
        assert len(pairs) == len(pairs_of(getattr(forward, split)))
        for a, b in pairs:
            assert (a == draw.BLUE).all() and (b == draw.RED).all()
    with pytest.raises(DataError, match="AtoB, BtoA"):
        load_pairs(str(root), 8, direction="sideways")


def test_tfds_pairs_are_explained(tmp_path):
    with pytest.raises(DataError, match="no paired-image format"):
        load_pairs("tfds:cycle_gan/facades", 8)
