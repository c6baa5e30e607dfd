"""The exceptions of feynn. Every failure a user can cause is a :class:`feynn.Error`.

Subclasses also derive from the built-in exception that fits (``ValueError``, ``OSError``,
``MemoryError``), so ``except ValueError`` keeps working. Each carries ``help`` (a hint, or None).
"""


class Error(Exception):
    """Base class of every feynn exception."""

    help = None


class SpecError(Error, ValueError):
    """A spec (or a claim) that does not parse or validate; ``line``, ``column`` (1-based, as
    strings from the library, converted to int here), ``path``, ``detail`` (the message alone)."""

    line = None
    column = None
    path = None
    detail = None

    def __setattr__(self, name, value):
        if name in ("line", "column") and isinstance(value, str):
            value = int(value) if value.isdigit() else None
        super().__setattr__(name, value)


class InputError(Error, ValueError):
    """A bad argument: a non-finite point, an order the expansion lacks, a wrong call for the
    model's kind."""


class ShapeError(InputError):
    """An array or tensor of the wrong shape; ``expected``, ``found`` (and ``tensor``)."""

    tensor = None
    expected = None
    found = None


class WeightsError(InputError):
    """Weights that are missing, unreadable, not floating point or not finite (NaN, Inf)."""

    path = None


class ActivationError(InputError):
    """An activation feynn does not know; ``activation`` names it."""

    activation = None


class UnsupportedModule(InputError):
    """A PyTorch module ``from_torch`` cannot read; ``index`` and ``module`` name it."""

    index = None
    module = None


class TooLarge(Error, MemoryError):
    """Refused before any work: the request is predicted to need ``predicted`` (above ``limit``)."""

    predicted = None
    limit = None


class FileError(Error, OSError):
    """A file that cannot be read; ``path``."""

    path = None


class Unavailable(Error, RuntimeError):
    """A feature this build or environment lacks (closed forms without Symbolica, torch)."""


class InternalError(Error, RuntimeError):
    """A bug in feynn (a Rust panic, caught): please report it."""


__all__ = [
    "Error",
    "SpecError",
    "InputError",
    "ShapeError",
    "WeightsError",
    "ActivationError",
    "UnsupportedModule",
    "TooLarge",
    "FileError",
    "Unavailable",
    "InternalError",
]
