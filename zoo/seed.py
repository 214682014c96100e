"""The seed every zoo run uses unless it is given another.

One number for every family, data loader and recipe, so that two runs with
default flags shuffle, initialise and augment the same way, and a change of
default happens in one place.
"""

DEFAULT_SEED = 1337
