"""The embedded NLI sample: template pairs in 12 XNLI languages, in the XNLI-1.0 file layout.

Real XNLI cannot be downloaded here, so the workbook makes a small stand-in with the same shape:
an English training split, and development and test splits that are translations of the same
pairs into 12 of XNLI's 15 languages (XNLI's dev and test sets are parallel too). The files are
written in the XNLI-1.0 layout, so `read_xnli` reads them through the same code path as the
published files.

Each pair states one fact about a person, built from hand-written templates per language, CLDR
city names (through babel, each language's own spelling) and a list of given names:

    premise                         hypothesis                      label
    Anna lives in Vienna.           Anna is living in Vienna.       entailment
    Anna lives in Vienna.           Anna lives in Tokyo.            contradiction
    Anna lives in Vienna.           Omar lives in Vienna.           neutral (someone else)
    Omar has 7 brothers.            Omar has 7 brothers.            entailment
    Omar has 7 brothers.            Omar has 9 brothers.            contradiction
    Omar has 7 brothers.            Omar has 7 sisters.             neutral (other relatives)

What it can show: the whole pipeline (read, tokenise, fine-tune, evaluate per language, select by
average dev accuracy), and how much of a model's English training carries over to other languages
through what their token sequences share. What it cannot show: real inference (the labels follow
from comparing names, cities, numbers and one relation word), nor the transfer that comes from
multilingual pretraining, since the embedded models' weights are random. Given names stay in
Latin script in every language, and digits are ASCII everywhere: both make transfer easier than
in real text.

    python -m xlmlab.nli.sample data/xnli-sample     # rewrites the committed files
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from babel import Locale

from ..paths import home
from .xnli import LABELS, XNLI_COLUMNS

LANGUAGES = ["en", "fr", "es", "de", "ru", "tr", "ar", "vi", "zh", "hi", "sw", "ur"]  # XNLI's order
SIZES = {"train": 4000, "dev": 200, "test": 400}  # train is English only; dev/test per language
SEED = 2018  # the year of XNLI
COMMITTED = Path(__file__).resolve().parents[2] / "data" / "xnli-sample"  # in a source checkout

# Per language: two ways to say where someone lives, and "has n brothers / sisters". Subjects are
# phrased so that no template depends on the person's gender or on case endings of the name.
TEMPLATES = {
    "en": ("{name} lives in {city}.", "{name} is living in {city}.", "{name} has {n} brothers.", "{name} has {n} sisters."),
    "fr": ("{name} habite à {city}.", "{name} vit à {city}.", "{name} a {n} frères.", "{name} a {n} sœurs."),
    "es": ("{name} vive en {city}.", "{name} reside en {city}.", "{name} tiene {n} hermanos.", "{name} tiene {n} hermanas."),
    "de": ("{name} wohnt in {city}.", "{name} lebt in {city}.", "{name} hat {n} Brüder.", "{name} hat {n} Schwestern."),
    "ru": ("{name} живёт в городе {city}.", "{name} проживает в городе {city}.",
           "У человека по имени {name} {n} братьев.", "У человека по имени {name} {n} сестёр."),
    "tr": ("{name} adlı kişi {city} şehrinde yaşıyor.", "{name} adlı kişi {city} şehrinde oturuyor.",
           "{name} adlı kişinin {n} erkek kardeşi var.", "{name} adlı kişinin {n} kız kardeşi var."),
    "ar": ("{name} من سكان {city}.", "مكان إقامة {name} هو {city}.", "لدى {name} {n} إخوة.", "لدى {name} {n} أخوات."),
    "vi": ("{name} sống ở {city}.", "{name} đang sống tại {city}.", "{name} có {n} anh em trai.", "{name} có {n} chị em gái."),
    "zh": ("{name}住在{city}。", "{name}居住在{city}。", "{name}有{n}个兄弟。", "{name}有{n}个姐妹。"),
    "hi": ("{name} {city} में रहते हैं।", "{name} का घर {city} में है।", "{name} के {n} भाई हैं।", "{name} की {n} बहनें हैं।"),
    "sw": ("{name} anaishi {city}.", "{name} anakaa {city}.", "{name} ana kaka {n}.", "{name} ana dada {n}."),
    "ur": ("{name} {city} میں رہتے ہیں۔", "{name} کا گھر {city} میں ہے۔", "{name} کے {n} بھائی ہیں۔", "{name} کی {n} بہنیں ہیں۔"),
}
NAMES = ["Anna", "Maria", "Ali", "Omar", "Yuki", "Chen", "Ivan", "Olga", "Pedro", "Lucia", "Amir", "Fatima",
         "Kofi", "Amina", "Raj", "Priya", "Lars", "Ingrid", "Pierre", "Claire", "Hans", "Greta", "Ahmet", "Elif",
         "Minh", "Linh", "Juma", "Neema", "Kenji", "Sofia", "Diego", "Nadia"]
# Cities as time-zone ids: CLDR names each zone's exemplar city in every locale.
CITIES = ["Europe/Vienna", "Europe/London", "Asia/Tokyo", "America/New_York", "Europe/Moscow", "Africa/Cairo",
          "Europe/Rome", "Europe/Paris", "Europe/Berlin", "Europe/Madrid", "Europe/Athens", "Europe/Istanbul",
          "Asia/Shanghai", "Asia/Kolkata", "Africa/Nairobi", "Asia/Karachi", "Asia/Bangkok", "America/Mexico_City",
          "America/Sao_Paulo", "Asia/Dubai", "Australia/Sydney", "Europe/Warsaw", "Europe/Lisbon", "Europe/Stockholm",
          "Europe/Prague", "Asia/Seoul", "Asia/Singapore", "Africa/Lagos", "America/Chicago", "America/Los_Angeles",
          "Asia/Jakarta", "Europe/Amsterdam", "Europe/Dublin", "Africa/Johannesburg", "America/Toronto", "Asia/Tehran"]
COUNTS = range(5, 11)  # 5..10: one plural form in every template language (ru, ar included)


def city_name(zone: str, lang: str) -> str:
    """A city's name in `lang`: CLDR's exemplar city, or, as CLDR itself falls back, the zone id's."""
    return Locale.parse(lang).time_zones.get(zone, {}).get("city") or zone.rsplit("/", 1)[1].replace("_", " ")


def facts(count: int, rng: random.Random) -> list[dict]:
    """Abstract pairs, language-free: what the premise and hypothesis say, and the label."""
    out = []
    for _ in range(count):
        label = rng.choice(LABELS)
        name, other_name = rng.sample(NAMES, 2)
        if rng.random() < 0.5:  # where someone lives
            city, other_city = rng.sample(CITIES, 2)
            premise = dict(kind=rng.choice((0, 1)), name=name, city=city)
            hypothesis = dict(kind=rng.choice((0, 1)), name=name, city=city)
            if label == "contradiction":
                hypothesis["city"] = other_city
            elif label == "neutral":
                hypothesis["name"] = other_name
        else:  # how many brothers or sisters
            relation = rng.choice((2, 3))
            n, m = rng.sample(COUNTS, 2)
            premise = dict(kind=relation, name=name, n=n)
            hypothesis = dict(kind=relation, name=name, n=n)
            if label == "contradiction":
                hypothesis["n"] = m
            elif label == "neutral":
                if rng.random() < 0.5:
                    hypothesis["kind"] = 5 - relation  # the other relation
                else:
                    hypothesis["name"] = other_name
        out.append(dict(premise=premise, hypothesis=hypothesis, label=label))
    return out


def render(statement: dict, lang: str) -> str:
    fields = dict(statement)
    if "city" in fields:
        fields["city"] = city_name(fields["city"], lang)
    return TEMPLATES[lang][fields.pop("kind")].format(**fields)


def rows(split: str, languages: list[str], rng: random.Random) -> list[list[str]]:
    """XNLI-1.0 rows: the same pairs rendered in each language, as XNLI's dev and test sets are."""
    out = []
    for i, fact in enumerate(facts(SIZES[split], rng)):
        for lang in languages:
            s1, s2 = render(fact["premise"], lang), render(fact["hypothesis"], lang)
            label = fact["label"]
            row = dict.fromkeys(XNLI_COLUMNS, "")
            row |= dict(language=lang, gold_label=label, sentence1=s1, sentence2=s2, promptID=str(i),
                        pairID=f"{split}-{i}", genre="templates", sentence1_tokenized=" ".join(s1.split()),
                        sentence2_tokenized=" ".join(s2.split()), match="True")
            row |= {f"label{k}": label for k in range(1, 6)}
            out.append([row[c] for c in XNLI_COLUMNS])
    # XNLI's files list one language after another
    return sorted(out, key=lambda r: languages.index(r[0]))


def write(directory: str | Path) -> Path:
    """Write xnli.train.tsv (English), xnli.dev.tsv and xnli.test.tsv (12 languages) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    for split in SIZES:
        languages = ["en"] if split == "train" else LANGUAGES
        lines = ["\t".join(XNLI_COLUMNS)] + ["\t".join(r) for r in rows(split, languages, rng)]
        (directory / f"xnli.{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def path() -> Path:
    """The sample's directory: data/xnli-sample in a source checkout, else written on first use
    into `$XLMLAB_HOME/xnli-sample`."""
    if (COMMITTED / "xnli.test.tsv").is_file():
        return COMMITTED
    target = home() / "xnli-sample"
    return target if (target / "xnli.test.tsv").is_file() else write(target)


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else COMMITTED))
