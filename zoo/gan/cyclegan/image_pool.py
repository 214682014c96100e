"""The history of generated images a CycleGAN discriminator is trained on
(Shrivastava et al. 2017; the reference code's `ImagePool`).

The discriminator sees, for each new fake image, either that image or, half
of the time once the pool is full, one of the last `size` fakes, which the
new one then replaces. Training on older fakes too keeps the discriminator
from chasing only the generator's latest outputs, which damps oscillation.

`ImagePool.query` runs inside the compiled train step. The pool's contents,
fill count and random state are `tf.Variable`s of a `tf.Module`, so a
checkpoint that names the pool saves all of them: a resumed run replays
exactly the images an uninterrupted one would. Its random numbers come
from stateless ops seeded with (seed, number of draws so far).

Under a multi-replica strategy the variables are per replica
(`ON_READ`): each replica keeps its own pool, and a checkpoint saves the
first replica's.
"""

from __future__ import annotations

import tensorflow as tf

POOL_SIZE = 50
REPLAY_PROBABILITY = 0.5


class ImagePool(tf.Module):
    """Args:
        image_shape: (height, width, channels) of the images it will hold.
        size: images kept; 0 turns the pool off (`query` returns its input).
        seed: seeds the replay draws.
        name: the module's name.
    """

    def __init__(self, image_shape, size: int = POOL_SIZE, seed: int = 0,
                 name: str = "image_pool"):
        super().__init__(name=name)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a non-negative integer. Received: size={size!r}")
        image_shape = tuple(int(side) for side in image_shape)
        if len(image_shape) != 3:
            raise ValueError(f"image_shape must be (height, width, channels). Received: "
                             f"image_shape={image_shape}")
        self.size = size
        self.image_shape = image_shape
        local = dict(trainable=False, synchronization=tf.VariableSynchronization.ON_READ,
                     aggregation=tf.VariableAggregation.ONLY_FIRST_REPLICA)
        with self.name_scope:
            self.images = tf.Variable(tf.zeros((size, *image_shape), tf.float32),
                                      name="images", **local)
            self.count = tf.Variable(0, dtype=tf.int32, name="count", **local)
            self.seed = tf.Variable(int(seed), dtype=tf.int64, name="seed", **local)
            self.draws = tf.Variable(0, dtype=tf.int64, name="draws", **local)

    def query(self, images):
        """The images to show the discriminator in place of `images` (N, H, W, C).

        Image by image, in order: while the pool is not full the image is
        stored and returned; once it is full, with probability 0.5 a random
        stored image is returned and the new one takes its place, otherwise
        the new image is returned.
        """
        images = tf.cast(images, tf.float32)
        if self.size == 0:
            return images
        count = tf.shape(images)[0]

        def body(index, answered):
            answered = answered.write(index, self._one(images[index]))
            return index + 1, answered

        answers = tf.TensorArray(tf.float32, size=count, element_shape=self.image_shape)
        _, answers = tf.while_loop(lambda index, _: index < count, body,
                                   (tf.constant(0), answers))
        return tf.reshape(answers.stack(), tf.shape(images))

    def _one(self, image):
        def store():
            with tf.control_dependencies([self._put(self.count, image)]):
                with tf.control_dependencies([self.count.assign_add(1)]):
                    return tf.identity(image)

        def maybe_replay():
            chance = tf.random.stateless_uniform([], seed=tf.stack([self.seed, self.draws]))
            slot = tf.random.stateless_uniform([], seed=tf.stack([self.draws, self.seed]),
                                               maxval=self.size, dtype=tf.int32)
            with tf.control_dependencies([self.draws.assign_add(1)]):
                return tf.cond(chance > REPLAY_PROBABILITY, lambda: swap(slot),
                               lambda: tf.identity(image))

        def swap(slot):
            old = tf.gather(self.images, slot)
            with tf.control_dependencies([old]):
                with tf.control_dependencies([self._put(slot, image)]):
                    return tf.identity(old)

        return tf.cond(self.count < self.size, store, maybe_replay)

    def _put(self, slot, image):
        return self.images.scatter_update(tf.IndexedSlices(image[None], slot[None]))
