"""The embedded NLI sample: template pairs in the 15 XNLI languages, in the published file layouts.

Real XNLI cannot be downloaded here, so the workbook makes a small stand-in with the same shape:
English training pairs in the XNLI-1.0 layout (`xnli.train.tsv`), their translations into the 14
other languages in the XNLI-MT-1.0 layout (`XNLI-MT/multinli.train.{lang}.tsv`, for the
translate-train baselines), and development and test sets that are the same pairs in all 15
languages (`xnli.dev.tsv`, `xnli.test.tsv`; XNLI's dev and test sets are parallel too).

Each premise states one fact about a person; hand-written templates per language, CLDR city and
country names (through babel, each language's own spelling) and a list of given names fill it:

    premise                      hypothesis                        label
    Anna lives in Vienna.        Anna's home is in Vienna.         entailment     (a paraphrase)
    Anna lives in Vienna.        Anna lives in Austria.            entailment     (needs: Vienna is in Austria)
    Anna lives in Vienna.        Anna lives in Japan.              contradiction
    Anna lives in Vienna.        Omar's home is in Vienna.         neutral        (someone else)
    Omar has 7 brothers.         Omar has brothers.                entailment
    Omar has 7 brothers.         Omar has no brothers.             contradiction
    Omar has 7 brothers.         Omar has 9 brothers.              contradiction
    Omar has 7 brothers.         Omar has no sisters.              neutral        (other relatives)

The shortcuts a template sample invites are closed, and tested:
- a hypothesis is never the premise copied: the residence hypothesis always uses the other
  sentence form than its premise (or the country form), whatever the label;
- no English pair of the dev or test set occurs in training, nor twice in dev and test (training
  repeats some of its own pairs: there are fewer distinct sibling entailments than it needs);
- every language is one the embedded tokenizers and models were trained on (all 15).
What remains: the hypothesis's form alone predicts a sibling pair's label two times in three
(`has brothers` is entailment or neutral, `has no brothers` contradiction or neutral), as
negation cues contradiction in real NLI data; for residence pairs it predicts nothing.

What it can show: the whole pipeline (read, tokenise, fine-tune, evaluate per language, select
a checkpoint), and how much of an English-only fine-tuning carries over to other languages, from
a random start and from pretrained encoders. What it cannot show: real inference (the labels
follow from comparing a name, a city or country, a number and one relation word, plus which
cities lie in which country), and transfer at the scale of the papers. Given names stay in Latin
script in every language and digits are ASCII everywhere: both make transfer easier than in real
text.

    python -m xlmlab.nli.sample data/xnli-sample     # rewrites the committed files
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from babel import Locale

from ..paths import home
from .xnli import LABELS, XNLI_COLUMNS, XNLI_LANGUAGES

LANGUAGES = XNLI_LANGUAGES  # XNLI's order
SIZES = {"train": 4000, "dev": 200, "test": 400}  # train: English, and its translations (XNLI-MT layout)
SEED = 2018  # the year of XNLI
COMMITTED = Path(__file__).resolve().parents[2] / "data" / "xnli-sample"  # in a source checkout
MT_DIRECTORY = "XNLI-MT"
MT_LABELS = {"contradiction": "contradictory"}  # as XNLI-MT-1.0 writes it

# The sentence forms, in this order, per language:
#   0 lives in CITY   1 CITY, said another way   2 has N brothers   3 has N sisters   4 lives in COUNTRY
#   5 has brothers    6 has sisters              7 has no brothers  8 has no sisters
# Subjects are phrased so that no template depends on the person's gender or on case endings of
# the name; countries go where no article or case ending is needed.
TEMPLATES = {
    "en": ("{name} lives in {city}.", "{name}'s home is in {city}.", "{name} has {n} brothers.",
           "{name} has {n} sisters.", "{name} lives in {country}.", "{name} has brothers.", "{name} has sisters.",
           "{name} has no brothers.", "{name} has no sisters."),
    "fr": ("{name} habite à {city}.", "{name} vit à {city}.", "{name} a {n} frères.", "{name} a {n} sœurs.",
           "Le pays où vit {name} est : {country}.", "{name} a des frères.", "{name} a des sœurs.",
           "{name} n'a pas de frères.", "{name} n'a pas de sœurs."),
    "es": ("{name} vive en {city}.", "{name} reside en {city}.", "{name} tiene {n} hermanos.",
           "{name} tiene {n} hermanas.", "{name} vive en {country}.", "{name} tiene hermanos.",
           "{name} tiene hermanas.", "{name} no tiene hermanos.", "{name} no tiene hermanas."),
    "de": ("{name} wohnt in {city}.", "{name} lebt in {city}.", "{name} hat {n} Brüder.", "{name} hat {n} Schwestern.",
           "{name} lebt in {country}.", "{name} hat Brüder.", "{name} hat Schwestern.", "{name} hat keine Brüder.",
           "{name} hat keine Schwestern."),
    "el": ("{name} μένει στην πόλη {city}.", "{name} ζει στην πόλη {city}.", "{name} έχει {n} αδελφούς.",
           "{name} έχει {n} αδελφές.", "{name} ζει στη χώρα {country}.", "{name} έχει αδελφούς.",
           "{name} έχει αδελφές.", "{name} δεν έχει αδελφούς.", "{name} δεν έχει αδελφές."),
    "bg": ("{name} живее в град {city}.", "Домът на {name} е в град {city}.", "{name} има {n} братя.",
           "{name} има {n} сестри.", "{name} живее в държавата {country}.", "{name} има братя.", "{name} има сестри.",
           "{name} няма братя.", "{name} няма сестри."),
    "ru": ("{name} живёт в городе {city}.", "{name} проживает в городе {city}.",
           "У человека по имени {name} {n} братьев.", "У человека по имени {name} {n} сестёр.",
           "{name} живёт в стране {country}.", "У человека по имени {name} есть братья.",
           "У человека по имени {name} есть сёстры.", "У человека по имени {name} нет братьев.",
           "У человека по имени {name} нет сестёр."),
    "tr": ("{name} adlı kişi {city} şehrinde yaşıyor.", "{name} adlı kişi {city} şehrinde oturuyor.",
           "{name} adlı kişinin {n} erkek kardeşi var.", "{name} adlı kişinin {n} kız kardeşi var.",
           "{name} adlı kişi {country} ülkesinde yaşıyor.", "{name} adlı kişinin erkek kardeşleri var.",
           "{name} adlı kişinin kız kardeşleri var.", "{name} adlı kişinin erkek kardeşi yok.",
           "{name} adlı kişinin kız kardeşi yok."),
    "ar": ("{name} من سكان {city}.", "مكان إقامة {name} هو {city}.", "لدى {name} {n} إخوة.", "لدى {name} {n} أخوات.",
           "يعيش {name} في {country}.", "لدى {name} إخوة.", "لدى {name} أخوات.", "ليس لدى {name} إخوة.",
           "ليس لدى {name} أخوات."),
    "vi": ("{name} sống ở {city}.", "{name} đang sống tại {city}.", "{name} có {n} anh em trai.",
           "{name} có {n} chị em gái.", "{name} sống ở nước {country}.", "{name} có anh em trai.",
           "{name} có chị em gái.", "{name} không có anh em trai.", "{name} không có chị em gái."),
    "th": ("{name} อาศัยอยู่ที่{city}", "บ้านของ{name}อยู่ที่{city}", "{name} มีพี่ชายน้องชาย {n} คน",
           "{name} มีพี่สาวน้องสาว {n} คน", "{name} อาศัยอยู่ในประเทศ{country}", "{name} มีพี่ชายน้องชาย",
           "{name} มีพี่สาวน้องสาว", "{name} ไม่มีพี่ชายน้องชาย", "{name} ไม่มีพี่สาวน้องสาว"),
    "zh": ("{name}住在{city}。", "{name}居住在{city}。", "{name}有{n}个兄弟。", "{name}有{n}个姐妹。", "{name}住在{country}。",
           "{name}有兄弟。", "{name}有姐妹。", "{name}没有兄弟。", "{name}没有姐妹。"),
    "hi": ("{name} {city} में रहते हैं।", "{name} का घर {city} में है।", "{name} के {n} भाई हैं।", "{name} की {n} बहनें हैं।",
           "{name} {country} में रहते हैं।", "{name} के भाई हैं।", "{name} की बहनें हैं।", "{name} का कोई भाई नहीं है।",
           "{name} की कोई बहन नहीं है।"),
    "sw": ("{name} anaishi {city}.", "{name} anakaa {city}.", "{name} ana kaka {n}.", "{name} ana dada {n}.",
           "{name} anaishi nchini {country}.", "{name} ana kaka.", "{name} ana dada.", "{name} hana kaka.",
           "{name} hana dada."),
    "ur": ("{name} {city} میں رہتے ہیں۔", "{name} کا گھر {city} میں ہے۔", "{name} کے {n} بھائی ہیں۔",
           "{name} کی {n} بہنیں ہیں۔", "{name} {country} میں رہتے ہیں۔", "{name} کے بھائی ہیں۔", "{name} کی بہنیں ہیں۔",
           "{name} کا کوئی بھائی نہیں ہے۔", "{name} کی کوئی بہن نہیں ہے۔"),
}
LIVES, LIVES_2, COUNT, COUNTRY, HAS, HAS_NO = 0, 1, 2, 4, 5, 7  # forms; + relation (0 brothers, 1 sisters)
NAMES = ["Anna", "Maria", "Ali", "Omar", "Yuki", "Chen", "Ivan", "Olga", "Pedro", "Lucia", "Amir", "Fatima",
         "Kofi", "Amina", "Raj", "Priya", "Lars", "Ingrid", "Pierre", "Claire", "Hans", "Greta", "Ahmet", "Elif",
         "Minh", "Linh", "Juma", "Neema", "Kenji", "Sofia", "Diego", "Nadia", "Tomas", "Eva", "Mehmet", "Zeynep",
         "Arjun", "Meera", "Wei", "Mei", "Kwame", "Abena", "Sven", "Astrid", "Luca", "Giulia", "Dmitri", "Irina"]
# Cities as time-zone ids (CLDR names each zone's exemplar city in most locales), with their country
CITIES = {"Europe/Vienna": "AT", "Asia/Tokyo": "JP", "Europe/Moscow": "RU", "Asia/Novosibirsk": "RU",
          "Asia/Vladivostok": "RU", "Africa/Cairo": "EG", "Europe/Rome": "IT", "Europe/Paris": "FR",
          "Europe/Berlin": "DE", "Europe/Madrid": "ES", "Europe/Athens": "GR", "Asia/Shanghai": "CN",
          "Asia/Kolkata": "IN", "Africa/Nairobi": "KE", "Asia/Karachi": "PK", "Asia/Bangkok": "TH",
          "America/Mexico_City": "MX", "America/Monterrey": "MX", "America/Sao_Paulo": "BR", "America/Manaus": "BR",
          "Australia/Sydney": "AU", "Australia/Melbourne": "AU", "Australia/Perth": "AU", "Europe/Warsaw": "PL",
          "Europe/Lisbon": "PT", "Europe/Stockholm": "SE", "Europe/Prague": "CZ", "Asia/Seoul": "KR",
          "Asia/Ho_Chi_Minh": "VN", "Africa/Lagos": "NG", "Asia/Jakarta": "ID", "Europe/Dublin": "IE",
          "Africa/Johannesburg": "ZA", "America/Toronto": "CA", "America/Vancouver": "CA"}
COUNTS = range(5, 11)  # 5..10: one plural form in every template language (ru, ar included)


def city_name(zone: str, lang: str) -> str:
    """A city's name in `lang`: CLDR's exemplar city, or, as CLDR itself falls back, the zone id's."""
    return Locale.parse(lang).time_zones.get(zone, {}).get("city") or zone.rsplit("/", 1)[1].replace("_", " ")


def country_name(code: str, lang: str) -> str:
    """A country's name in `lang`, from CLDR."""
    return Locale.parse(lang).territories[code]


def residence(label: str, name: str, other_name: str, rng: random.Random) -> tuple[dict, dict]:
    """Premise and hypothesis about where someone lives. The hypothesis's form never depends on the
    label: the other city sentence than the premise's, or the country sentence."""
    city = rng.choice(list(CITIES))
    form = rng.choice((LIVES, LIVES_2))
    premise = dict(form=form, name=name, city=city)
    if rng.random() < 0.5:
        hypothesis = dict(form=LIVES + LIVES_2 - form, name=name, city=city)
        if label == "contradiction":
            hypothesis["city"] = rng.choice([c for c in CITIES if CITIES[c] != CITIES[city]])
    else:
        hypothesis = dict(form=COUNTRY, name=name, country=CITIES[city])
        if label == "contradiction":
            hypothesis["country"] = rng.choice(sorted(set(CITIES.values()) - {CITIES[city]}))
    if label == "neutral":
        hypothesis["name"] = other_name
    return premise, hypothesis


def siblings(label: str, name: str, other_name: str, rng: random.Random) -> tuple[dict, dict]:
    """Premise "has N brothers (sisters)"; the hypothesis says that the person has some, none, or
    another number of them, or speaks of other relatives or another person."""
    relation, n = rng.choice((0, 1)), rng.choice(COUNTS)
    premise = dict(form=COUNT + relation, name=name, n=n)
    if label == "entailment":
        return premise, dict(form=HAS + relation, name=name)
    if label == "contradiction":
        if rng.random() < 0.5:
            return premise, dict(form=HAS_NO + relation, name=name)
        return premise, dict(form=COUNT + relation, name=name, n=rng.choice([m for m in COUNTS if m != n]))
    # neutral: half "has", a quarter "has no", a quarter a count, each about someone or something else
    form = rng.choice((HAS, HAS, HAS_NO, COUNT))
    if form != COUNT and rng.random() < 0.5:
        return premise, dict(form=form + 1 - relation, name=name)  # the other relatives
    return premise, dict(form=form + relation, name=other_name, **({"n": n} if form == COUNT else {}))


def render(statement: dict, lang: str) -> str:
    fields = dict(statement)
    if "city" in fields:
        fields["city"] = city_name(fields["city"], lang)
    if "country" in fields:
        fields["country"] = country_name(fields["country"], lang)
    return TEMPLATES[lang][fields.pop("form")].format(**fields)


def facts(rng: random.Random) -> dict[str, list[dict]]:
    """Language-free pairs per split, a third of each label. The test and dev pairs are drawn first
    and are all different; training never holds one of them, but may repeat its own pairs (there
    are fewer distinct sibling entailments than it needs)."""
    held_out, out = set(), {}
    for split in ("test", "dev", "train"):
        out[split] = []
        for i in range(SIZES[split]):
            label = LABELS[i % 3]
            while True:
                name, other_name = rng.sample(NAMES, 2)
                make = residence if rng.random() < 0.5 else siblings
                premise, hypothesis = make(label, name, other_name, rng)
                key = render(premise, "en"), render(hypothesis, "en")
                if key not in held_out:
                    break
            if split != "train":
                held_out.add(key)
            out[split].append(dict(premise=premise, hypothesis=hypothesis, label=label))
        rng.shuffle(out[split])
    return {split: out[split] for split in SIZES}


def xnli_rows(split: str, pairs: list[dict], languages: list[str]) -> list[list[str]]:
    """XNLI-1.0 rows: the same pairs rendered in each language, one language after another."""
    out = []
    for lang in languages:
        for i, fact in enumerate(pairs):
            s1, s2 = render(fact["premise"], lang), render(fact["hypothesis"], lang)
            label = fact["label"]
            row = dict.fromkeys(XNLI_COLUMNS, "")
            row |= dict(language=lang, gold_label=label, sentence1=s1, sentence2=s2, promptID=str(i),
                        pairID=f"{split}-{i}", genre="templates", sentence1_tokenized=" ".join(s1.split()),
                        sentence2_tokenized=" ".join(s2.split()), match="True")
            row |= {f"label{k}": label for k in range(1, 6)}
            out.append([row[c] for c in XNLI_COLUMNS])
    return out


def write(directory: str | Path) -> Path:
    """Write xnli.train.tsv (English), XNLI-MT/multinli.train.{lang}.tsv (the 14 others), and
    xnli.dev.tsv / xnli.test.tsv (15 languages) into `directory`."""
    directory = Path(directory)
    (directory / MT_DIRECTORY).mkdir(parents=True, exist_ok=True)
    pairs = facts(random.Random(SEED))
    for split in SIZES:
        languages = ["en"] if split == "train" else LANGUAGES
        lines = ["\t".join(XNLI_COLUMNS)] + ["\t".join(r) for r in xnli_rows(split, pairs[split], languages)]
        (directory / f"xnli.{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for lang in LANGUAGES[1:]:
        lines = ["premise\thypo\tlabel"] + [
            f"{render(f['premise'], lang)}\t{render(f['hypothesis'], lang)}\t{MT_LABELS.get(f['label'], f['label'])}"
            for f in pairs["train"]]
        (directory / MT_DIRECTORY / f"multinli.train.{lang}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def path() -> Path:
    """The sample's directory: data/xnli-sample in a source checkout, else written on first use
    into `$XLMLAB_HOME/xnli-sample`."""
    last = Path(MT_DIRECTORY) / f"multinli.train.{LANGUAGES[-1]}.tsv"  # the last file `write` writes
    if (COMMITTED / last).is_file():
        return COMMITTED
    target = home() / "xnli-sample"
    return target if (target / last).is_file() else write(target)


if __name__ == "__main__":
    print(write(sys.argv[1] if len(sys.argv) > 1 else COMMITTED))
