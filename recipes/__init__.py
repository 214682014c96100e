"""The narrated recipes, runnable as scripts from a checkout.

Installed as the package `zoo.recipes` (see setup.py), so that `zoo run NAME`
finds recipes/NAME.py from a wheel too; `zoo run --list` shows them.
"""
