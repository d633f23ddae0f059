"""passport: issue, sign, store and serve EU battery digital product passports."""

__version__ = "0.1.0"

__all__ = ["__version__"]
