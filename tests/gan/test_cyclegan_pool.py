"""The image pool follows the reference's ImagePool.query image by image:
it fills first, then replays a stored image (and stores the new one in its
place) half of the time; its contents and random state live in variables
that a checkpoint saves and restores."""

import numpy as np
import pytest
import tensorflow as tf

from zoo.gan.cyclegan.image_pool import ImagePool

SHAPE = (2, 3, 3)


def numbered(start, count=3):
    """Images filled with their number, so every output says where it came from."""
    values = np.arange(start, start + count, dtype="float32")
    return tf.constant(values[:, None, None, None] * np.ones((1, *SHAPE), "float32"))


def labels(images):
    return images.numpy()[:, 0, 0, 0].astype(int).tolist()


def run(pool, queries, start=1, batch=3):
    query = tf.function(pool.query)
    answers = []
    for index in range(queries):
        answers += labels(query(numbered(start + batch * index, batch)))
    return answers


def test_pool_fills_first_then_replays_about_half_of_the_time():
    pool = ImagePool(SHAPE, size=5, seed=3)
    answers = run(pool, 200)
    sent = list(range(1, 601))
    assert answers[:5] == sent[:5]  # while filling, the new images come back
    replayed = [(new, got) for new, got in zip(sent[5:], answers[5:]) if got != new]
    assert 0.4 < len(replayed) / len(sent[5:]) < 0.6
    # A replayed image is an older fake, one that was sent and kept.
    assert all(got < new for new, got in replayed)
    assert len(set(got for _, got in replayed)) == len(replayed)  # each leaves the pool once
    assert int(pool.count.numpy()) == 5
    # The pool holds the 5 latest images that were not returned (replaced ones left).
    kept = sorted(set(sent) - set(answers))
    assert sorted(labels(pool.images)) == kept[-5:]


def test_pool_answers_image_by_image_within_a_batch_and_size_zero_is_off():
    pool = ImagePool(SHAPE, size=2, seed=0)
    assert labels(pool.query(numbered(1, 3)))[:2] == [1, 2]  # fills mid-batch
    assert int(pool.count.numpy()) == 2
    off = ImagePool(SHAPE, size=0)
    assert labels(off.query(numbered(7, 2))) == [7, 8]
    with pytest.raises(ValueError, match="size"):
        ImagePool(SHAPE, size=-1)


def test_pool_contents_and_random_state_are_saved_and_restored(tmp_path):
    pool = ImagePool(SHAPE, size=4, seed=9)
    run(pool, 5)
    path = tf.train.Checkpoint(pool=pool).write(str(tmp_path / "pool"))
    expected = run(pool, 10, start=100)

    fresh = ImagePool(SHAPE, size=4, seed=0)
    tf.train.Checkpoint(pool=fresh).read(path).assert_consumed()
    assert labels(fresh.images) != [0, 0, 0, 0]
    assert int(fresh.seed.numpy()) == 9
    assert run(fresh, 10, start=100) == expected
