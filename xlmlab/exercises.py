"""Self-checks for the notebooks' exercises: an answer against the expected one, the verdict printed.

    check_1 = Check(1, lambda: (both.idxmin(), both.idxmax()), hint="the most negative change is the largest gain")
    check_1(None)            # exercise 1: not answered yet
    check_1(("de", "th"))    # exercise 1: right (...)
    check_1(("th", "de"))    # exercise 1: not yet: the most negative ... (you gave ('th', 'de'))
    check_1.is_right(("de", "th"))  # True

A check never raises on what a student types: a wrong value, a wrong type or an answer the comparison
cannot read all print "not yet" with the hint (a check prints its verdict and returns nothing, so a
notebook cell shows the verdict alone; `is_right` gives it as a bool). The expected answer may be a function,
computed on the first check and kept, so a check can be defined before the cells that compute it.

Every check made in a session is registered by its number; `self_test()` (the last cell of each
notebook's exercises) runs each one again with the answer that made it right and with wrong answers
made from it, and fails if a check turns down its own solution or accepts a wrong answer.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable
from typing import Any

_UNSET = object()
_checks: dict[int, Check] = {}


class Check:
    """The check of exercise `number`: `check(answer)` prints the verdict; `check.is_right(answer)` returns it.

    `expected` is the right answer or a function of no arguments that computes it. Numbers are compared
    within `tolerance` (absolute), sets and tuples element by element; `compare(answer, expected)`
    replaces the comparison. `explain(expected)` is the text shown in brackets after "right".
    """

    def __init__(self, number: int, expected: Any, *, hint: str, tolerance: float = 1e-9,
                 compare: Callable[[Any, Any], bool] | None = None, explain: Callable[[Any], str] | None = None):
        self.number, self.hint, self.tolerance = number, hint, tolerance
        self._expected, self._value = expected, _UNSET
        self._compare, self._explain = compare, explain
        self.solved: list[Any] = []  # answers that were right, in order
        _checks[number] = self

    @property
    def expected(self) -> Any:
        if self._value is _UNSET:
            self._value = self._expected() if callable(self._expected) else self._expected
        return self._value

    def is_right(self, answer: Any) -> bool:
        """Whether `answer` is right; False (never an exception) for anything the comparison cannot read."""
        try:
            if self._compare is not None:
                return bool(self._compare(answer, self.expected))
            return same(answer, self.expected, self.tolerance)
        except Exception:  # a student's answer of another type: a wrong answer, not a crash
            return False

    def __call__(self, answer: Any) -> None:
        if answer is None:
            print(f"exercise {self.number}: not answered yet")
        elif not self.is_right(answer):
            print(f"exercise {self.number}: not yet: {self.hint} (you gave {answer!r})")
        else:
            self.solved.append(answer)
            detail = self._explain(self.expected) if self._explain else None
            print(f"exercise {self.number}: right" + (f" ({detail})" if detail else ""))


def same(answer: Any, expected: Any, tolerance: float = 1e-9) -> bool:
    """Equality for answers: numbers within `tolerance`, sets as sets, sequences element by element.

    >>> same(0.1 + 0.2, 0.3), same(("de", "th"), ["de", "th"]), same({"ru", "uk"}, {"uk", "ru"}), same("3", 3)
    (True, True, True, False)
    """
    if isinstance(expected, bool) or isinstance(answer, bool):
        return type(answer) is type(expected) and answer == expected
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return isinstance(answer, int | float) and math.isclose(float(answer), float(expected), rel_tol=0,
                                                               abs_tol=tolerance)
    if isinstance(expected, set | frozenset):
        return isinstance(answer, set | frozenset | list | tuple) and set(answer) == set(expected)
    if isinstance(expected, tuple | list):
        return (isinstance(answer, tuple | list) and len(answer) == len(expected)
                and all(same(a, e, tolerance) for a, e in zip(answer, expected)))
    return type(answer) is type(expected) and answer == expected


def wrong_answers(right: Any) -> list[Any]:
    """Answers that must be turned down when `right` is right: another value, and one of another type.

    >>> wrong_answers(2.5)[:2], wrong_answers("shorter")[1], wrong_answers({"ru", "uk"})[0]
    ([3.5, -2.5], 'not an answer', set())
    """
    others: list[Any] = []
    if isinstance(right, bool):
        others = [not right]
    elif isinstance(right, int | float):
        others = [right + 1, -right if right else 1, "a number written as text"]
    elif isinstance(right, str):
        others = [right + "?", "not an answer", 42]
    elif isinstance(right, set | frozenset):
        others = [set(), set(right) | {"xx"}, 42]
    elif isinstance(right, tuple | list):
        others = [tuple(reversed(right)) if len(set(map(repr, right))) > 1 else (), tuple(right)[:-1], 42]
    else:
        others = [object(), 42]
    return others


def self_test() -> None:
    """Run every registered check with the answer that made it right and with wrong answers.

    Raises AssertionError naming the exercise when a check was never solved (its worked solution did
    not run or was turned down), when it turns its own solution down, or when it takes a wrong answer
    (or raises on one).
    """
    numbers = sorted(_checks)
    for number in numbers:
        check = _checks[number]
        assert check.solved, f"exercise {number}: no answer was found right; run its worked solution first"
        solution = check.solved[-1]
        assert check.is_right(solution), f"exercise {number} turns down its own solution"
        refused = 0
        for wrong in wrong_answers(solution):
            if check.is_right(wrong):
                continue  # e.g. a tolerance wide enough to take both; the other wrong answers must fail
            with contextlib.redirect_stdout(io.StringIO()) as said:
                check(wrong)  # must print a hint, not raise
            assert said.getvalue().startswith(f"exercise {number}: not yet: "), f"exercise {number} on {wrong!r}"
            refused += 1
        assert refused >= 2, f"exercise {number} turned down {refused} of its wrong answers, expected 2 or more"
    print(f"exercises {', '.join(map(str, numbers))}: each takes its worked solution "
          "and answers wrong ones with a hint")

