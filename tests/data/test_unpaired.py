"""CycleGAN domains: trainA/trainB/testA/testB folders, A/ B/ folders, missing
domains, and the embedded sets with their ground-truth transforms."""

import numpy as np
import pytest

from zoo.data import check_folder, ground_truth, load_unpaired
from zoo.errors import DataError


def images_of(dataset):
    return np.concatenate([batch.numpy() for batch in dataset])


def make_domains(root, draw, counts):
    for domain, n in counts.items():
        for i in range(n):
            colour = draw.RED if domain.endswith("A") else draw.BLUE
            draw.save(draw.solid((12, 10), colour), root / domain / f"{i}.png")


def test_cyclegan_layout(tmp_path, draw):
    root = tmp_path / "h2z"
    make_domains(root, draw, {"trainA": 4, "trainB": 3, "testA": 2, "testB": 1})
    (root / "trainB" / "broken.jpg").write_bytes(b"\xff\xd8\xff")
    before = draw.tree_fingerprint(root)
    data = load_unpaired(str(root), (8, 6), batch_size=2)
    train_a, train_b = images_of(data.train_a), images_of(data.train_b)
    assert train_a.shape == (4, 8, 6, 3) and train_b.shape == (3, 8, 6, 3)
    assert train_a.dtype == np.uint8
    assert (train_a == draw.RED).all() and (train_b == draw.BLUE).all()  # jitter of a flat image
    assert len(images_of(data.test_a)) == 2 and len(images_of(data.test_b)) == 1
    report = check_folder(str(root))
    assert report.kind == "unpaired"
    assert report.counts == {"trainA": 4, "trainB": 3, "testA": 2, "testB": 1}
    assert [s.path for s in report.skipped] == ["trainB/broken.jpg"]
    assert draw.tree_fingerprint(root) == before


def test_a_and_b_folders_hold_out_test_images(tmp_path, draw):
    make_domains(tmp_path / "ab", draw, {"A": 10, "B": 5})
    data = load_unpaired(str(tmp_path / "ab"), 8, test_split=0.2)
    assert len(images_of(data.train_a)) == 8 and len(images_of(data.test_a)) == 2
    assert len(images_of(data.train_b)) == 4 and len(images_of(data.test_b)) == 1


@pytest.mark.parametrize("counts, message", [
    ({"trainA": 2}, r"has trainA/ but no trainB/: domain B is missing"),
    ({"trainA": 2, "trainB": 2, "testA": 1}, r"has testA/ but no testB/: domain B"),
    ({"testA": 1, "testB": 1}, r"no trainA/ and trainB/"),
    ({"B": 2}, r"has B/ but not A/"),
    ({"cats": 2, "dogs": 2}, r"not an unpaired layout \(found subfolders cats, dogs\)"),
])
def test_missing_domains_are_data_errors(tmp_path, draw, counts, message):
    make_domains(tmp_path / "d", draw, counts)
    with pytest.raises(DataError, match=message + ".*Expected layout"):
        load_unpaired(str(tmp_path / "d"), 8)


def test_empty_domain_is_a_data_error(tmp_path, draw):
    make_domains(tmp_path / "d", draw, {"trainA": 2})
    (tmp_path / "d" / "trainB").mkdir()
    (tmp_path / "d" / "trainB" / "x.txt").write_text("no")
    with pytest.raises(DataError, match=r"trainB has no usable images"):
        check_folder(str(tmp_path / "d"), kind="unpaired")


def test_embedded_sepia_domain_b_is_the_true_transform_of_other_photos():
    data = load_unpaired("color2sepia", 32, batch_size=8, augment=False, shuffle=False)
    a, b = images_of(data.train_a).astype(int), images_of(data.train_b).astype(int)
    assert a.shape == b.shape == (192, 32, 32, 3)
    # Sepia rows are ordered, so every toned pixel has R >= G >= B; photos do not.
    assert ((b[..., 0] >= b[..., 1]) & (b[..., 1] >= b[..., 2])).all()
    assert not ((a[..., 0] >= a[..., 1]) & (a[..., 1] >= a[..., 2])).all()
    toned = ground_truth("color2sepia")(images_of(data.test_a))
    assert toned.dtype == np.uint8 and toned.shape == (16, 32, 32, 3)
    assert len(images_of(data.test_b)) == 16


def test_ground_truth_transforms():
    pixel = np.array([[10, 20, 30]], dtype=np.uint8)
    assert ground_truth("rgb2bgr")(pixel).tolist() == [[30, 20, 10]]
    assert ground_truth("rgb2bgr")(ground_truth("rgb2bgr")(pixel)).tolist() == pixel.tolist()
    white = ground_truth("color2sepia")(np.full((1, 3), 255.0))
    assert white.dtype == np.float32
    assert np.allclose(white, [[255, 255, 0.937 * 255]])
    with pytest.raises(DataError, match="No embedded unpaired set"):
        ground_truth("nope")
