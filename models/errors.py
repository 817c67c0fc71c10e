"""One exception hierarchy for everything a user can get wrong.

The command line catches :class:`PlausiblyError`, prints its message and exits
with :attr:`PlausiblyError.exit_code`; it catches :class:`Interrupted` (and
Ctrl-C) the same way. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ContractionTooLarge",
    "ElicitationError",
    "ImpossibleHistory",
    "InputError",
    "Interrupted",
    "OutputError",
    "PlausiblyError",
    "Problem",
    "RunFileError",
    "SamplingError",
    "ScenarioError",
    "UnconvergedError",
    "UsageError",
    "WorkerLost",
]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where, what, and how to fix it.

    Parameters
    ----------
    file : str
        The file (or ``"<dict>"`` for in-memory input) the problem is in.
    key : str
        Dotted key path inside the file, e.g. ``"edges[3].cause"``; empty for
        the whole file.
    message : str
        What is wrong, quoting the bad value.
    fix : str
        What to do about it.
    """

    file: str
    key: str
    message: str
    fix: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.message}\n    fix: {self.fix}"


class PlausiblyError(Exception):
    """Base class: a problem with the user's input or request, not a bug."""

    exit_code = 2

    def __init__(self, message: str = "", problems: Sequence[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not message:
            message = "\n".join(str(p) for p in self.problems)
        super().__init__(message)

    @classmethod
    def from_problems(cls, problems: Iterable[Problem]) -> PlausiblyError:
        """Build the error from a list of problems (all reported at once)."""
        return cls(problems=tuple(problems))


class InputError(PlausiblyError):
    """An input file is malformed or inconsistent (exit 2)."""


class ScenarioError(InputError):
    """A scenario file is malformed or inconsistent."""


class ElicitationError(InputError):
    """A prior-set file is malformed or does not fit its scenario."""


class RunFileError(InputError):
    """A saved run (``run.nc``) cannot be read or is not what plausibly wrote."""


class ImpossibleHistory(InputError):
    """The inputs give what happened probability 0 (in double precision): no counterfactual."""


class UsageError(PlausiblyError):
    """The command line asks for something that cannot be done (exit 2)."""


class OutputError(PlausiblyError):
    """An output file cannot be written where asked (exit 2)."""


class ContractionTooLarge(PlausiblyError):
    """An exact query would need more memory than the budget allows."""


class SamplingError(PlausiblyError):
    """Sampling could not be done as asked."""


class WorkerLost(SamplingError):
    """A sampling worker process died (killed from outside, or out of memory)."""

    exit_code = 1


class UnconvergedError(SamplingError):
    """MCMC finished but did not converge (R-hat, ESS or divergences)."""

    exit_code = 3


class Interrupted(BaseException):
    """The run was stopped: Ctrl-C or SIGTERM, to this process or to a sampling worker.

    Every worker is stopped and nothing is written (an output file is whole or
    absent).

    Its exit status is the one a shell gives a process that the signal ended,
    128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM. Like
    :class:`KeyboardInterrupt` it is a :class:`BaseException`, so that no
    ``except Exception`` swallows it; unlike it, PyMC does not catch it (PyMC
    ends a chain early on a KeyboardInterrupt and returns the short chain as if
    it were whole).

    Parameters
    ----------
    signum : int
        The signal that stopped the run.
    message : str, optional
        What was stopped, for the user; a default names the signal.
    """

    def __init__(self, signum: int = signal.SIGINT, message: str = "") -> None:
        self.signum = int(signum)
        if not message:
            name = "Ctrl-C (SIGINT)" if self.signum == signal.SIGINT else _signal_name(signum)
            message = (f"interrupted by {name}: everything stopped, sampling workers too; "
                       "output files are written whole or not at all")
        super().__init__(message)

    @property
    def exit_code(self) -> int:
        """128 + the signal's number (130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


def _signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


#: signals that asked the command to stop (see :func:`note_stop`)
_STOPS: list[int] = []


def note_stop(signum: int) -> None:
    """Remember that a signal asked the command to stop, before its handler raises.

    Python ignores an exception raised inside a garbage-collector callback
    (JAX registers one) or a ``__del__``, and a signal's handler runs wherever
    the main thread happens to be: the stop would be lost. Loops that wait
    (the sampler's) call :func:`raise_if_stopped`, so it never is.
    """
    _STOPS.append(int(signum))


def raise_if_stopped() -> None:
    """Raise :class:`Interrupted` for the first signal noted by :func:`note_stop`, if any."""
    if _STOPS:
        raise Interrupted(_STOPS[0])


def forget_stops() -> None:
    """Clear what :func:`note_stop` noted (a command starts afresh)."""
    _STOPS.clear()

