"""The notebooks' exercise checks: right answers pass, wrong ones get a hint and never a traceback, and
every notebook's exercises are checked through xlmlab.exercises and tested by its last cell."""

import json
import re
from pathlib import Path

import pytest

from xlmlab import exercises
from xlmlab.exercises import Check, same, self_test, wrong_answers

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(autouse=True)
def fresh_registry(monkeypatch):
    monkeypatch.setattr(exercises, "_checks", {})


def test_an_unanswered_exercise_says_so(capsys):
    Check(1, 3.0, hint="h")(None)
    assert capsys.readouterr().out == "exercise 1: not answered yet\n"


def test_a_right_answer_passes_with_its_explanation(capsys):
    check = Check(2, ("de", "th"), hint="h", explain=lambda e: f"{e[0]} most")
    assert check(["de", "th"]) is None and check.is_right(["de", "th"]) and check.solved == [["de", "th"]]
    assert capsys.readouterr().out == "exercise 2: right (de most)\n"


@pytest.mark.parametrize("answer", [("th", "de"), "de th", 42, {"de": 1}, object(), float("nan")])
def test_a_wrong_answer_of_any_type_gets_the_hint_and_no_exception(answer, capsys):
    check = Check(3, ("de", "th"), hint="the most negative change is the largest gain")
    check(answer)
    assert not check.is_right(answer) and check.solved == []
    assert capsys.readouterr().out.startswith("exercise 3: not yet: the most negative change is the largest gain (you gave ")


def test_a_comparison_that_raises_is_a_wrong_answer(capsys):
    check = Check(4, 2.0, hint="a number", compare=lambda a, e: abs(a - e) < 0.5)
    assert not check.is_right("2") and check.is_right(2.2)


def test_numbers_are_compared_within_the_tolerance():
    check = Check(5, lambda: 13.14, hint="h", tolerance=0.5)
    assert check.is_right(13.5) and not check.is_right(13.7) and not check.is_right("13.14")
    assert same(0.1 + 0.2, 0.3) and not same(True, 1) and same(["uk", "ru"], {"ru", "uk"})


def test_the_expected_answer_is_computed_once_on_the_first_check():
    calls = []
    check = Check(6, lambda: calls.append(1) or "lives in", hint="h")
    assert calls == []
    check("siblings"), check("lives in")
    assert calls == [1] and check.solved == ["lives in"]


@pytest.mark.parametrize("right", [0.1, 0, 13.1, "shorter", {"ru", "uk"}, ("de", "th"), True])
def test_every_generated_wrong_answer_differs_from_the_right_one(right):
    assert all(not same(wrong, right) for wrong in wrong_answers(right))


def test_self_test_passes_checks_that_take_their_solution_and_refuse_the_rest(capsys):
    Check(1, 0.1, hint="h")(0.1)
    Check(2, {"ru", "uk"}, hint="h")({"uk", "ru"})
    self_test()
    assert capsys.readouterr().out.endswith("exercises 1, 2: each takes its worked solution and answers wrong ones with a hint\n")


def test_self_test_fails_an_exercise_whose_solution_never_ran():
    Check(1, 0.1, hint="h")
    with pytest.raises(AssertionError, match="exercise 1: no answer was found right"):
        self_test()


def test_self_test_fails_a_check_that_takes_anything():
    Check(7, 1.0, hint="h", compare=lambda a, e: True)(1.0)
    with pytest.raises(AssertionError, match="exercise 7 turned down 0 of its wrong answers"):
        self_test()


def cells(path):
    return [("".join(c["source"]), c["cell_type"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_checks_its_exercises_through_xlmlab_and_tests_them_last(path):
    sources = cells(path)
    start = next(i for i, (s, kind) in enumerate(sources) if kind == "markdown" and s.startswith("## Exercises"))
    code = [s for s, kind in sources[start:] if kind == "code"]
    body = "\n".join(code)
    assert "def check_" not in body, "a check written by hand: use xlmlab.exercises.Check"
    pairs = re.findall(r"check_(\d+) = Check\((\d+)", body)
    assert pairs, "no exercise has a self-check"
    for n, registered in pairs:
        assert n == registered, f"check_{n} is registered as exercise {registered}"
        solution = [s for s in code if s.startswith("# solution") and f"check_{n}(" in s]
        assert solution, f"exercise {n} has no solution cell that calls check_{n}"
    assert code[-1].strip().endswith("exercises.self_test()"), "the last cell runs exercises.self_test()"
