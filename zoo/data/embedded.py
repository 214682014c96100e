"""Real data sets that ship inside zoo's dependencies, so everything runs offline.

Classification (fixed, stratified 60/20/20 train/val/test split, seed 0,
through sklearn's train_test_split; validation_split and seed are ignored):

    digits  scikit-learn's 1,797 handwritten 8x8 digits, 10 classes "0".."9"
            (white strokes on black; 0..16 values scaled to 0..255).
    faces   scikit-image's lfw_subset: 100 25x25 faces and 100 non-faces,
            classes "face", "non_face".

Paired (Pix2Pix) sets, from random crops of real photos; the test crops come
from photos never used for training (chelsea the cat, sklearn's flower):

    edges2photos  A: Canny edges of the crop, black lines on white; B: the crop.
    gray2color    A: the crop in grayscale (as RGB); B: the crop in colour.

Unpaired (CycleGAN) sets: domain A is crops of the training photos, domain B
a known colour transform of *other* crops of the same photos (no crop of one
domain is paired with one of the other, but the domains differ only by the
transform, so it is what a translator between them has to learn);
`ground_truth(name)` is that transform, so a generator's A->B output can be
scored against it. The test crops come from the held-out photos:

    color2sepia   B is the classic sepia tone matrix, clipped at 255.
    rgb2bgr       B has the red and blue channels swapped (invertible).

All images are grayscale-to-RGB uint8, resized to the requested size, and
fully deterministic.
"""

from __future__ import annotations

import functools

import numpy as np

from zoo.errors import DataError

EMBEDDED_CLASSIFICATION = ("digits", "faces")
EMBEDDED_PAIRS = ("edges2photos", "gray2color")
EMBEDDED_UNPAIRED = ("color2sepia", "rgb2bgr")
EMBEDDED = {**{n: "classification" for n in EMBEDDED_CLASSIFICATION},
            **{n: "pairs" for n in EMBEDDED_PAIRS},
            **{n: "unpaired" for n in EMBEDDED_UNPAIRED}}

SPLIT_FRACTIONS = {"train": 0.6, "val": 0.2, "test": 0.2}
SPLIT_SEED = 0

TRAIN_PHOTOS = ("astronaut", "coffee", "rocket", "china", "motorcycle", "immunohistochemistry")
TEST_PHOTOS = ("chelsea", "flower")
TRAIN_CROPS_PER_PHOTO = 64
TEST_CROPS_PER_PHOTO = 16
CROP_SEED = 0

SEPIA = np.array([[0.393, 0.769, 0.189],
                  [0.349, 0.686, 0.168],
                  [0.272, 0.534, 0.131]], dtype=np.float32)


# --- classification -------------------------------------------------------


def classification_arrays(name: str, split: str, size: tuple[int, int]):
    """One split of an embedded classification set.

    Args:
        name: "digits" or "faces".
        split: "train", "val" or "test".
        size: (height, width) to resize to.

    Returns:
        (images uint8 (n, height, width, 3), labels int32 (n,), class_names).
    """
    if split not in SPLIT_FRACTIONS:
        raise DataError(f"split must be one of {', '.join(SPLIT_FRACTIONS)}, not {split!r}.")
    images, labels, class_names = _native_classification(name)
    index = _fixed_split(labels)[split]
    return _resize_gray(images[index], size), labels[index], class_names


def native_size(name: str) -> tuple[int, int]:
    """(height, width) of the images of an embedded classification set as shipped."""
    return _native_classification(name)[0].shape[1:3]


@functools.lru_cache(maxsize=None)
def _native_classification(name: str):
    if name == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
        return images, digits.target.astype(np.int32), [str(c) for c in digits.target_names]
    if name == "faces":
        from skimage.data import lfw_subset

        # The first 100 images are faces, the other 100 are not.
        images = np.rint(lfw_subset() * 255.0).astype(np.uint8)
        labels = np.repeat(np.arange(2, dtype=np.int32), 100)
        return images, labels, ["face", "non_face"]
    raise DataError(f"No embedded classification set {name!r}; "
                    f"there are: {', '.join(EMBEDDED_CLASSIFICATION)}.")


def _fixed_split(labels: np.ndarray) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    index = np.arange(len(labels))
    test_fraction = SPLIT_FRACTIONS["test"]
    rest, test = train_test_split(index, test_size=test_fraction, stratify=labels,
                                  random_state=SPLIT_SEED)
    val_fraction = SPLIT_FRACTIONS["val"] / (1 - test_fraction)
    train, val = train_test_split(rest, test_size=val_fraction, stratify=labels[rest],
                                  random_state=SPLIT_SEED)
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}


def _resize_gray(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import tensorflow as tf

    resized = tf.image.resize(images[..., None].astype(np.float32), size, method="bilinear",
                              antialias=True)
    rgb = tf.image.grayscale_to_rgb(resized)
    return np.clip(np.rint(rgb.numpy()), 0, 255).astype(np.uint8)


# --- photos -----------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """A colour photo shipped by scikit-image or scikit-learn, uint8 (h, w, 3).

    Args:
        name: a scikit-image data name (astronaut, coffee, chelsea...),
            "motorcycle" (the left stereo view), or "china" / "flower".
    """
    if name in ("china", "flower"):
        from sklearn.datasets import load_sample_image

        return load_sample_image(f"{name}.jpg")
    import skimage.data

    if name == "motorcycle":
        return skimage.data.stereo_motorcycle()[0]
    return getattr(skimage.data, name)()


def random_crops(image: np.ndarray, count: int, size: tuple[int, int],
                 rng: np.random.Generator) -> np.ndarray:
    """Random crops of 35-70% of the shorter side, with the aspect of `size`.

    Args:
        image: uint8 (h, w, 3) photo.
        count: how many crops.
        size: (height, width) the crops are resized to.
        rng: the random generator (fixed seed: the sets are deterministic).
    """
    from PIL import Image

    height, width = image.shape[:2]
    aspect = size[1] / size[0]
    source = Image.fromarray(image)
    crops = np.empty((count, *size, 3), dtype=np.uint8)
    for i in range(count):
        crop_h = rng.uniform(0.35, 0.7) * min(height, width)
        crop_w = min(crop_h * aspect, width)
        crop_h = crop_w / aspect
        top = rng.uniform(0, height - crop_h)
        left = rng.uniform(0, width - crop_w)
        box = (left, top, left + crop_w, top + crop_h)
        crops[i] = np.asarray(source.resize((size[1], size[0]), Image.Resampling.BILINEAR,
                                            box=box))
    return crops


def photo_crops(names: tuple[str, ...], per_photo: int, size: tuple[int, int],
                seed: int) -> np.ndarray:
    """Crops of several photos, concatenated in the order of `names`."""
    rng = np.random.default_rng(seed)
    return np.concatenate([random_crops(photo(n), per_photo, size, rng) for n in names])


# --- pairs ------------------------------------------------------------------


def pair_arrays(name: str, split: str, size: tuple[int, int]):
    """(A, B) uint8 arrays of an embedded paired set.

    Args:
        name: "edges2photos" or "gray2color".
        split: "train" or "test" (test crops come from held-out photos).
        size: (height, width).
    """
    if name not in EMBEDDED_PAIRS:
        raise DataError(f"No embedded paired set {name!r}; there are: {', '.join(EMBEDDED_PAIRS)}.")
    photos = _crops_for(split, TRAIN_PHOTOS, TEST_PHOTOS, size)
    make_a = _edge_map if name == "edges2photos" else _grayscale
    return np.stack([make_a(p) for p in photos]), photos


def _crops_for(split, train_names, test_names, size, seed_offset=0, per_photo=None):
    if split == "train":
        return photo_crops(train_names, per_photo or TRAIN_CROPS_PER_PHOTO, size,
                           CROP_SEED + seed_offset)
    if split == "test":
        return photo_crops(test_names, per_photo or TEST_CROPS_PER_PHOTO, size,
                           CROP_SEED + 1 + seed_offset)
    raise DataError(f"split must be 'train' or 'test', not {split!r}.")


def _grayscale(image: np.ndarray) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).convert("L").convert("RGB"))


def _edge_map(image: np.ndarray) -> np.ndarray:
    from skimage.color import rgb2gray
    from skimage.feature import canny

    # sigma grows with the image so the sketch keeps the same level of detail.
    sigma = max(1.0, min(image.shape[:2]) / 128)
    edges = canny(rgb2gray(image), sigma=sigma)
    return np.repeat(np.where(edges, 0, 255).astype(np.uint8)[..., None], 3, axis=-1)


# --- unpaired ---------------------------------------------------------------


def unpaired_arrays(name: str, split: str, size: tuple[int, int]):
    """(domain A, domain B) uint8 arrays of an embedded unpaired set.

    Args:
        name: "color2sepia" or "rgb2bgr".
        split: "train" or "test" (crops of the held-out photos).
        size: (height, width).
    """
    transform = ground_truth(name)
    per_photo = (TRAIN_CROPS_PER_PHOTO if split == "train" else TEST_CROPS_PER_PHOTO) // 2
    domain_a = _crops_for(split, TRAIN_PHOTOS, TEST_PHOTOS, size, per_photo=per_photo)
    domain_b = _crops_for(split, TRAIN_PHOTOS, TEST_PHOTOS, size, seed_offset=10,
                          per_photo=per_photo)
    return domain_a, transform(domain_b)


def ground_truth(name: str):
    """The true A->B mapping of an embedded unpaired set.

    Args:
        name: "color2sepia" or "rgb2bgr".

    Returns:
        A function from RGB images (..., 3) with values 0..255 (numpy or
        tensors) to numpy arrays: uint8 for uint8 input, else float32 0..255.
    """
    if name == "color2sepia":
        return _sepia
    if name == "rgb2bgr":
        return _swap_red_blue
    raise DataError(f"No embedded unpaired set {name!r}; "
                    f"there are: {', '.join(EMBEDDED_UNPAIRED)}.")


def inverse_ground_truth(name: str):
    """The true B->A mapping of an embedded unpaired set, or None where the
    transform loses information (sepia keeps one tone, not the colours).

    Args:
        name: "color2sepia" or "rgb2bgr".
    """
    ground_truth(name)  # an unknown name is an error
    return _swap_red_blue if name == "rgb2bgr" else None


def _sepia(images) -> np.ndarray:
    images = np.asarray(images)
    toned = np.clip(images.astype(np.float32) @ SEPIA.T, 0, 255)
    return np.rint(toned).astype(np.uint8) if images.dtype == np.uint8 else toned


def _swap_red_blue(images) -> np.ndarray:
    images = np.asarray(images)
    swapped = images[..., ::-1]
    return swapped.copy() if images.dtype == np.uint8 else swapped.astype(np.float32)
