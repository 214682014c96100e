"""Public names that load their module on first use.

zoo's packages re-export names whose modules import TensorFlow, Keras or
MLflow (seconds of start-up); loading them on first access keeps
`import zoo` and the `zoo` command quick.
"""

from importlib import import_module


def lazy_attributes(package: str, namespace: dict, names: dict[str, str]):
    """`__getattr__` and `__dir__` for a package whose `names` map to modules.

    Args:
        package: the package's name, for the error message.
        namespace: the package's `globals()`; a loaded name is stored there,
            so later lookups skip `__getattr__`.
        names: public name -> module that defines it.
    """

    def __getattr__(name):
        if name in names:
            value = getattr(import_module(names[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__():
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
