"""Which packages the wheel holds; everything else is in pyproject.toml.

pyproject.toml can either find packages or list them, not find them and add
one from elsewhere, so this file does it: every package under zoo/, plus the
top-level recipes/ folder installed as `zoo.recipes`. There is one copy of
each recipe: the file people read and run in a checkout
(`python recipes/classify.py`) is the file `zoo run classify` runs from a
wheel or an editable install.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["zoo", "zoo.*"]), "zoo.recipes"],
    package_dir={"zoo.recipes": "recipes"},
)
