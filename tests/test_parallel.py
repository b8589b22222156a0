"""Parallel text from translated software: the builder's rules on a small fixture, and the
committed files as the documentation describes them."""

import json
import re
import zipfile

import pytest

from xlmlab import parallel

HEX = "0" * 32


def po(entries: list[tuple[str, str, bool]]) -> str:
    body = ['msgid ""', 'msgstr ""', '"Content-Type: text/plain; charset=UTF-8\\n"', ""]
    for msgid, msgstr, fuzzy in entries:
        body += (["#, fuzzy"] if fuzzy else []) + [f'msgid "{msgid}"', f'msgstr "{msgstr}"', ""]
    return "\n".join(body)


def wheel(path, files: dict[str, str]):
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)


@pytest.fixture
def wheels(tmp_path):
    directory = tmp_path / "wheels"
    directory.mkdir()
    wheel(directory / "kolibri-0.19.5-py2.py3-none-any.whl", {
        "kolibri-0.19.5.dist-info/LICENSE": "MIT, kolibri\n",
        "kolibri/locale/en/LC_MESSAGES/app-messages.json": json.dumps(
            {"save": "Save  changes", "hello": "Hello {name}", "delete": "Delete", "add": "Add", "n": "42"}),
        "kolibri/locale/fr_FR/LC_MESSAGES/app-messages.json": json.dumps(
            {"save": "Enregistrer les modifications", "hello": "Bonjour {name}", "delete": "Supprimer",
             "add": "Ajouter", "n": "42"}),
    })
    wheel(directory / "home_assistant_frontend-20250109.2-py3-none-any.whl", {
        "home_assistant_frontend-20250109.2.dist-info/LICENSE.md": "Apache License 2.0\n",
        f"hass_frontend/static/translations/en-{HEX}.json": json.dumps(
            {"ui": {"save": "Save changes", "close": "Close", "open": "Open the door"}}),
        f"hass_frontend/static/translations/fr-{HEX}.json": json.dumps(
            {"ui": {"save": "Sauvegarder", "close": "Close", "open": "Ouvrir la porte"}}),
        f"hass_frontend/static/translations/config/ru-{HEX}.json": json.dumps({"a": {"b": "Открыть"}}),
        f"hass_frontend/static/translations/config/en-{HEX}.json": json.dumps({"a": {"b": "Open"}}),
    })
    django = {"django-5.2.19.dist-info/licenses/LICENSE": "BSD 3-Clause, Django\n"}
    for lang in parallel.XNLI_LANGUAGES[1:]:
        locale = parallel.LOCALES["django"][lang]
        entries = [("Delete", f"Delete-{lang}", False), ("Close", f"Close-{lang}", True)]
        if lang == "fr":
            entries.append(("Add", "Ajouter", False))
        django[f"django/conf/locale/{locale}/LC_MESSAGES/django.po"] = po(entries)
    wheel(directory / "django-5.2.19-py3-none-any.whl", django)
    return directory


def test_the_builder_applies_its_rules(wheels, tmp_path):
    out = parallel.build(wheels, tmp_path / "parallel")
    evaluation = parallel.read_eval(out)
    # Django's strings translated into all 14 languages (the fuzzy "Close" is not translated)
    assert evaluation["en"].tolist() == ["Delete"]
    assert evaluation.iloc[0, 1:].tolist() == [f"Delete-{lang}" for lang in parallel.XNLI_LANGUAGES[1:]]
    french = parallel.read_train("fr", out)
    # "Add" and "Delete" are held out (Django has them), placeholders and numbers are dropped,
    # a translation equal to the English is no translation, kolibri's comes before Home Assistant's
    assert french.values.tolist() == [["Open the door", "Ouvrir la porte", "home-assistant"],
                                      ["Save changes", "Enregistrer les modifications", "kolibri"]]
    assert parallel.read_train("ru", out).values.tolist() == [["Open", "Открыть", "home-assistant"]]
    assert parallel.read_train("sw", out).empty
    assert (out / "LICENSES" / "django.txt").read_text() == "BSD 3-Clause, Django\n"
    counts = json.loads((out / "counts.json").read_text())
    assert counts["train"]["fr"] == 2 and counts["train_by_source"]["fr"] == {"home-assistant": 1, "kolibri": 1}


def test_the_builder_is_deterministic(wheels, tmp_path):
    a, b = parallel.build(wheels, tmp_path / "a"), parallel.build(wheels, tmp_path / "b")
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)


def test_a_missing_wheel_says_how_to_get_it(wheels, tmp_path):
    (wheels / "django-5.2.19-py3-none-any.whl").unlink()
    with pytest.raises(parallel.CorpusError, match=r"pip download --no-deps -d .* django==5\.2\.19"):
        parallel.build(wheels, tmp_path / "out")


def test_a_malformed_file_names_its_line(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "fr.tsv").write_text("en\tfr\tsource\nSave\tEnregistrer\tkolibri\nbroken line\n")
    with pytest.raises(parallel.CorpusError, match=r"fr\.tsv:3: expected 3 tab-separated fields; found 1"):
        parallel.read_train("fr", tmp_path)


@pytest.mark.parametrize("text, expected", [("  Save   changes ", "Save changes"), ("Hello, %(name)s", None),
                                            ("<b>Bold</b>", None), ("{n} files", None), ("42", None),
                                            ("Ενέργεια:", "Ενέργεια:")])
def test_clean_keeps_one_line_of_text_without_placeholders(text, expected):
    assert parallel.clean(text) == expected


# the committed files ----------------------------------------------------------------------------
def test_the_committed_evaluation_set_is_multiway_and_held_out_of_training():
    evaluation = parallel.read_eval()
    assert list(evaluation.columns) == parallel.XNLI_LANGUAGES and len(evaluation) >= 200
    assert (evaluation != "").all().all()
    held_out = set(evaluation["en"])
    for lang in parallel.XNLI_LANGUAGES[1:]:
        train = parallel.read_train(lang)
        assert not held_out & set(train["en"]), lang
        assert train["en"].is_unique and train["en"].is_monotonic_increasing


def test_every_language_has_what_the_readme_says():
    readme = (parallel.COMMITTED / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\w\w) \| ([\d,]+) \|", readme, re.M))
    counts = json.loads((parallel.COMMITTED / "counts.json").read_text())
    assert set(table) == set(parallel.XNLI_LANGUAGES[1:]) == set(counts["train"])
    for lang, n in table.items():
        train = parallel.read_train(lang)
        assert len(train) == int(n.replace(",", "")) == counts["train"][lang]
        assert train["source"].value_counts().to_dict() == counts["train_by_source"][lang]
    assert len(parallel.read_eval()) == counts["eval"]
    assert min(counts["train"].values()) >= 400  # Thai, the smallest
