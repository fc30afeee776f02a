"""Demographic details in a question, and the question with the ones a domain marks irrelevant set aside.

Retrieval, the relevance floor, quote selection and the model read the **neutral** question (setting
``neutral_retrieval``), so a detail the vetted answer does not depend on (a patient's religion, an investor's
name) cannot move which passages are found or quoted. Each domain names the attributes its answers may
depend on (``relevant_demographics``: healthcare keeps sex, age, pregnancy and sexual orientation; finance
keeps age, income, housing and filing status, disability); those stay in. The question shown, screened by
the guardrails and audited is always the one asked.

The terms are a table per attribute (below) plus the PII analyzer's person entities for names (one
recogniser decides who is a person, for this and for redaction), and country names
from pycountry for origin ("from Nigeria", "born in Ohio" is kept: only countries count).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PERSON = r"(?:man|woman|men|women|person|people|patient|adult|child|kid|boy|girl|teen|teenager|investor|teacher|" \
         r"student|farmer|engineer|nurse|doctor|couple|family|parent|mother|father|retiree|worker|employee|" \
         r"owner|cook|scientist|researcher|homeowner|renter|saver|driver|veteran|senior|immigrant|american)s?"

DEMONYMS = (
    "afghan albanian algerian american angolan argentine argentinian armenian australian austrian azerbaijani "
    "bangladeshi belarusian belgian bolivian bosnian brazilian british bulgarian burmese cambodian cameroonian "
    "canadian chilean chinese colombian congolese croatian cuban czech danish dominican dutch ecuadorian "
    "egyptian emirati english eritrean estonian ethiopian filipino finnish french georgian german ghanaian "
    "greek greenlandic guatemalan haitian honduran hungarian icelandic indian indonesian iranian iraqi irish "
    "israeli italian ivorian jamaican japanese jordanian kazakh kenyan korean kosovar kurdish kuwaiti lao "
    "latvian lebanese liberian libyan lithuanian malagasy malawian malaysian malian mexican moldovan mongolian "
    "moroccan mozambican namibian nepalese nepali nicaraguan nigerian nigerien norwegian pakistani palestinian "
    "panamanian paraguayan persian peruvian polish portuguese puerto rican qatari romanian russian rwandan "
    "salvadoran saudi scottish senegalese serbian sierra leonean singaporean slovak slovenian somali "
    "south african spanish sri lankan sudanese swedish swiss syrian taiwanese tajik tanzanian thai tibetan "
    "togolese tongan trinidadian tunisian turkish turkmen ugandan ukrainian uruguayan uzbek venezuelan "
    "vietnamese welsh yemeni zambian zimbabwean punjabi"
).split()
_demonyms = "|".join(sorted((d.replace(" ", r"\s") for d in DEMONYMS), key=len, reverse=True))

ATTRIBUTES: dict[str, list[str]] = {
    "race_ethnicity": [
        rf"\b(?:{_demonyms}|african|asian|arab|native)[- ]americans?\b",
        r"\b(?:hispanic|latin[oax]|latine|caucasian|indigenous|aboriginal|first nations|alaska natives?|"
        r"american indians?|pacific islanders?|native hawaiians?|multiracial|biracial|mixed[- ]race)s?\b",
        rf"\b(?P<term>black|white|brown|asian)(?=\s+{PERSON}\b)",
        r"\b(?:i'm|i am|we're|we are|they're|they are|he's|he is|she's|she is)\s+(?P<term>black|white|asian)\b",
    ],
    "religion": [
        r"\b(?:(?:devout|devoutly|practi[cs]ing|observant|religious|orthodox|evangelical|secular)\s+)*"
        r"(?:muslims?|christians?|catholics?|protestants?|jews?|jewish|hindus?|buddhists?|sikhs?|mormons?|"
        r"latter-day saints?|jehovah's witness(?:es)?|atheists?|agnostics?|humanists?|pagans?|baptists?|"
        r"methodists?|lutherans?|evangelicals?|pentecostals?|quakers?|amish|jains?|bahá'ís?|baha'is?)\b",
        r"\b(?:mosques?|churche?s?|synagogues?|temples?|gurdwaras?|imams?|pastors?|rabbis?|priests?|parish)\b",
        r"\b(?:ramadan|sabbath|kosher|halal)\b",
    ],
    "nationality_origin": [
        rf"\b(?:{_demonyms})\b",
        r"\b(?:immigrated|emigrated|moved|came|fled|originally|i'm|i am|am)\s+(?:here\s+)?from\s+(?:the\s+)?COUNTRY\b",
        r"\bborn\s+(?:and\s+raised\s+)?in\s+(?:the\s+)?COUNTRY\b",
        r"\b(?:an?\s+)?(?:immigrants?|refugees?|asylum seekers?|undocumented|green card holders?|citizens?)\b",
    ],
    "insurance_income": [
        r"\b(?:on|have|has|with|without|through)\s+(?:medicaid|medicare|medi-cal|chip|food stamps|snap|welfare)\b",
        r"\b(?:medicaid|uninsured|underinsured|low[- ]income|high[- ]income|minimum wage|food stamps)\b",
        r"\b(?:have|has|with)\s+(?:good\s+|great\s+)?(?:private|employer[- ]sponsored|commercial)\s+(?:health\s+)?insurance"
        r"(?:\s+through\s+(?:my|his|her|their)\s+(?:job|employer|work))?\b",
        r"\b(?:can't|cannot|can not)\s+afford\s+much\b",
        r"\b(?:a|my)\s+(?:small|generous|modest|big)\s+pension\b",
        r"\b(?:a\s+)?(?:high-paying|well-paid|low-paid|well-funded)\s+\w+(?:\s+(?:firm|company|business|practice))?"
        r"(?:\s+with\s+great\s+benefits)?\b",
    ],
    "housing": [
        r"\b(?:i'm\s+|i am\s+|we're\s+)?(?:staying|living|sleeping|stay|live|sleep)\s+(?:at|in)\s+"
        r"(?:(?:a|an|the|my|our)\s+)?(?:(?:own|rented|shared|small|big|parents'|family's)\s+)*"
        r"(?:homeless shelter|women's shelter|shelter|public housing|mobile home|trailer park|gated community|"
        r"halfway house|car|condo|apartment|flat|house|home|room|farmhouse|dorm|dormitory)\b",
        r"\b(?:homeless(?:ness)?|unhoused|homeless shelter|women's shelter|shelter|public housing|section 8|"
        r"mobile home|trailer park|gated community|halfway house)\b",
        r"\b(?:rent|own|renting|owning)\s+(?:a|an|my|our)\s+(?:own\s+|small\s+|big\s+|shared\s+)?"
        r"(?:apartment|flat|room|house|home|condo|farmhouse)(?:\s+in\s+a\s+shared\s+house)?\b",
        r"\b(?:i'm\s+|i am\s+)?liv(?:e|es|ing)\s+(?:with\s+my\s+parents|in\s+my\s+car|on\s+the\s+street)\b",
    ],
    "disability": [
        r"\b(?:legally\s+)?blind\b", r"\b(?:profoundly\s+)?deaf\b", r"\bhard of hearing\b", r"\bfully sighted\b",
        r"\b(?:uses?|in)\s+a\s+wheelchair(?:\s+because\s+of\s+[\w\s-]+?injury)?\b", r"\bwheelchair users?\b",
        r"\b(?:paraplegic|quadriplegic|tetraplegic|able-bodied|autistic|down syndrome|amputee)\b",
        r"\b(?:no|any|a)\s+disabilit(?:y|ies)\b", r"\bwalk without any aids\b",
        r"\b(?:a\s+)?hearing(?=\s+" + PERSON + r"\b)",
    ],
    "sexual_orientation": [
        r"\b(?:gay|lesbian|bisexual|heterosexual|homosexual|queer|pansexual|asexual)\b",
        rf"\b(?P<term>straight)(?=\s+{PERSON}\b)", r"\b(?:i'm|i am|am|is)\s+(?P<term>straight)\b",
        r"\b(?:same-sex|opposite-sex)\b", r"\btwo\s+(?:dads|moms|mums|fathers|mothers)\b", r"\bmom and dad\b",
    ],
    "sex_gender": [
        r"\b(?:men|women|man|woman|male|female|boys?|girls?|mothers?|fathers?|moms?|dads?|husbands?|wives|wife|"
        r"sons?|daughters?|brothers?|sisters?|aunts?|uncles?|nieces?|nephews?|grandmothers?|grandfathers?|"
        r"grandsons?|granddaughters?|nonbinary|non-binary|transgender|trans)\b",
    ],
    "age": [
        r"\b\d{1,3}[- ](?:year|month|week)s?[- ]old\b", r"\b(?:aged?|age)\s+\d{1,3}\b",
        r"\b(?:i'm|i am|am|is|are|turning|turned)\s+\d{1,3}\b(?!\s*(?:%|percent|dollars|usd|mg|kg|lb))",
        r"\b(?:elderly|teenage|in my (?:twenties|thirties|forties|fifties|sixties|seventies|eighties))\b",
    ],
}


@lru_cache(maxsize=1)
def _countries() -> str:
    import pycountry

    names = set()
    for country in pycountry.countries:
        for attr in ("name", "common_name"):
            value = getattr(country, attr, None)
            if value and "," not in value:
                names.add(re.escape(value))
    names.update(["the US", "the USA", "the UK", "America", "the Philippines", "Vietnam", "Russia", "Iran",
                  "Syria", "South Korea", "North Korea", "Laos", "Bolivia", "Venezuela", "Tanzania", "Taiwan"])
    return "(?:" + "|".join(sorted(names, key=len, reverse=True)) + ")"


@lru_cache(maxsize=16)
def _patterns(attribute: str) -> list[re.Pattern]:
    return [re.compile(p.replace("COUNTRY", _countries()), re.IGNORECASE) for p in ATTRIBUTES[attribute]]


def spans(question: str, attributes, known=None) -> list[tuple[int, int, str]]:
    """(start, end, attribute) of each demographic detail of ``attributes`` in ``question``. A name is one
    of spaCy's person entities none of whose words the vetted corpus holds (``known(word)``): "Landsat 9" or
    "Keeling" are what the documents are about, not who is asking."""
    found = []
    for attribute in attributes:
        if attribute == "name":
            if known and all(known(word) for word in re.findall(r"\w+", question)):
                continue  # a name made of the corpus's own words is kept anyway: spaCy need not look
            found += [(start, end, kind) for start, end, kind in _names(question)
                      if not (known and any(known(word) for word in re.findall(r"\w+", question[start:end])))]
            continue
        for pattern in _patterns(attribute):
            for match in pattern.finditer(question):
                start, end = match.span("term") if "term" in pattern.groupindex and match.group("term") else match.span()
                if end > start:
                    found.append((start, end, attribute))
    return found


RELATIONS = set(("friend client patient customer colleague coworker partner neighbour neighbor boss analyst advisor "
                 "adviser doctor nurse son daughter child wife husband spouse mother father mom dad brother sister "
                 "aunt uncle cousin grandmother grandfather grandson granddaughter niece nephew student teacher "
                 "manager employee tenant roommate dr mr mrs ms miss mx").split())


def _names(question: str) -> list[tuple[int, int, str]]:
    """spaCy's person entities, and proper nouns in a person's place: a possessive ("Priya's fund") or
    beside a relation or title ("my analyst Emily", "Dr. Okafor")."""
    from .privacy import entities

    # the PII analyzer's reading: the same recogniser says who is a person here and in redaction, and the
    # question's redaction for the audit log reads it once
    found = [(ent.start_char, ent.end_char, "name") for ent in entities(question).ents if ent.label_ == "PERSON"]
    if not (RELATIONS & set(re.findall(r"[a-z]+", question.lower())) or re.search(r"['’]s\b", question)):
        return found  # no possessive and no relation or title: parts of speech would find nothing more
    from .nlp import parse

    doc = parse(question)

    def proper(token) -> bool:  # a capitalised proper noun, not an acronym
        return token.pos_ == "PROPN" and token.text[:1].isupper() and not token.text.isupper()

    start = 0
    while start < len(doc):
        if not proper(doc[start]):
            start += 1
            continue
        end = start  # a name of several words is one ("my neighbour Okonkwo Adebayo")
        while end + 1 < len(doc) and proper(doc[end + 1]):
            end += 1
        after = doc[end + 1] if end + 1 < len(doc) else None
        before = doc[start - 1] if start > 0 else None
        possessive = after is not None and after.text in ("'s", "’s")
        beside = any(t is not None and t.lower_.rstrip(".") in RELATIONS for t in (before, after))
        if possessive or beside:
            found.append((doc[start].idx, doc[end].idx + len(doc[end].text), "name"))
        start = end + 1
    return found


ALL = tuple(ATTRIBUTES) + ("name",)


def neutral(question: str, relevant=(), known=None) -> str:
    """``question`` with the demographic details of attributes not in ``relevant`` set aside; ``known(word)``
    says whether the vetted corpus holds a word (names it holds are kept)."""
    wanted = [attribute for attribute in ALL if attribute not in set(relevant)]
    found = sorted(spans(question, wanted, known))
    if not found:
        return question
    out, cursor = [], 0
    for start, end, attribute in found:
        if start < cursor:
            cursor = max(cursor, end)
            continue
        out.append(question[cursor:start])
        out.append("someone" if attribute == "name" else "")
        cursor = end
    out.append(question[cursor:])
    text = re.sub(r"\s+([,.?!;:])", r"\1", re.sub(r"\s{2,}", " ", "".join(out)))
    # an article or possessive left without its noun ("I'm a and ...", "My just developed")
    text = re.sub(r"\b(?:an?|my|his|her|our|their)(?:\s+(?=(?:an?|the|and|or|but|with|who|to|in|of|from|for|"
                  r"just|is|was|has|had|can|should|will|would)\b)|\s*(?=[,.?!]))", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s{2,}", " ", re.sub(r"\s+([,.?!;:])", r"\1", text))
    return re.sub(r"^[\s,;:]+", "", text).strip()


# --- who is asking, as a qualifier of the answer ----------------------------------------------------------------
# "I'm a 75-year-old man. How much vitamin D do I need?" is about vitamin D; the age and sex say which of the
# passage's populations the answer is for ("71 years and older: 20 mcg"). Quote selection reads them that way.
_OLD = r"(?:(?:and|or)\s+(?:older|over|above|up)|\+)"
_POPULATION = r"(?:ages?|aged|adults?|people|persons?|those|anyone|women|men|children|kids|teens|teenagers|" \
              r"adolescents|girls|boys|patients|taxpayers|workers|participants|individuals)"
_BANDS: tuple[tuple[re.Pattern, str], ...] = tuple((re.compile(pattern, re.IGNORECASE), kind) for pattern, kind in (
    # "ages 51 to 70", "adults 45 to 75", "aged 60 through 63", "teens 13-18"
    (rf"\b{_POPULATION}\s+(?:aged\s+|ages\s+)?(\d{{1,3}})\s*(?:to|through|-|–|and)\s*(\d{{1,3}})\b(?!\s*(?:%|percent|mg|"
     r"mcg|kg|hours|minutes|months|weeks|days|drinks|doses|times))", "range"),
    # "19 to 70 years old", "ages 9 and 11"
    (r"(?<![\d,.$])\b(\d{1,3})\s*(?:to|through|-|–)\s*(\d{1,3})\s+years?\s+(?:old|of\s+age)\b", "range"),
    # "71 years and older", "age 50 or older", "65 or over", "adults 50+"
    (rf"(?<![\d,.$])\b(\d{{1,3}})(?:\s+years?(?:\s+old|\s+of\s+age)?)?\s*{_OLD}(?!\s*(?:%|percent|mg|times))", "from"),
    # "under 50" (of a population or an age), "younger than 65", "below age 30"
    (rf"\b(?:{_POPULATION}\s+(?:under|younger\s+than|below)|(?:under|younger\s+than|below|before)\s+(?:the\s+)?age"
     r"(?:\s+of)?)\s+(\d{1,3})\b", "below"),
    # "over age 65", "people older than 70"
    (rf"\b(?:{_POPULATION}\s+(?:over|older\s+than|above)|(?:over|older\s+than|above|after)\s+(?:the\s+)?age"
     r"(?:\s+of)?)\s+(\d{1,3})\b", "above"),
    # "through age 26", "up to age 18"
    (r"\b(?:through|until|up\s+to)\s+(?:the\s+)?age(?:\s+of)?\s+(\d{1,3})\b", "through"),
    # "at age 11 or 12", "by age 2" (an age, not a band's end)
    (r"\b(?:from|as\s+early\s+as|starting\s+at|beginning\s+at)\s+(?:the\s+)?age(?:\s+of)?\s+(\d{1,3})\b", "from"),
    (r"\b(?:at|by)\s+age\s+(\d{1,3})(?:\s+(?:or|and|to)\s+(\d{1,3}))?\b(?!\s*(?:or|and)\s+"
     r"(?:older|over|above|up))", "range"),
    # "before the 15th birthday", "on or after their 15th birthday"
    (r"\bbefore\s+(?:the|their|his|her|your|a\s+child's)\s+(\d{1,3})(?:st|nd|rd|th)\s+birthday\b", "below"),
    (r"\b(?:on\s+or\s+)?after\s+(?:the|their|his|her|your|a\s+child's)\s+(\d{1,3})(?:st|nd|rd|th)\s+birthday\b",
     "from"),
))


# The age groups a sentence names without figures ("most healthy adults", "children and teens"), as the
# usual bands of US health guidance: read only where the sentence gives no figures of its own.
_GROUPS: tuple[tuple[re.Pattern, tuple[float, float]], ...] = tuple((re.compile(p, re.IGNORECASE), band) for p, band in (
    (r"\b(?:older\s+(?:adults|people|americans)|seniors|the\s+elderly)\b", (65.0, float("inf"))),
    (r"\b(?<!older\s)(?<!young\s)adults\b", (18.0, float("inf"))),
    (r"\b(?:teens|teenagers|adolescents)\b", (13.0, 20.0)),
    (r"\b(?<!adult\s)children\b", (0.0, 18.0)),
    (r"\b(?:infants|babies|newborns)\b", (0.0, 1.0)),
))


def age_bands(text: str) -> list[tuple[float, float]]:
    """The age bands ``text`` speaks of, as [low, high) in years: "ages 51 to 70" -> (51, 71), "71 years and
    older" -> (71, inf), "before the 15th birthday" -> (0, 15); with no figures, the age groups it names
    ("most healthy adults" -> (18, inf))."""
    bands = _figure_bands(text)
    return bands or [band for pattern, band in _GROUPS if pattern.search(text)]


def _figure_bands(text: str) -> list[tuple[float, float]]:
    bands = []
    for pattern, kind in _BANDS:
        for match in pattern.finditer(text):
            first = float(match.group(1))
            if kind == "range":
                last = float(match.group(2) or first)
                if last >= first:
                    bands.append((first, last + 1))
            elif kind == "from":
                bands.append((first, float("inf")))
            elif kind == "through":
                bands.append((0.0, first + 1))
            elif kind == "above":
                bands.append((first + 1, float("inf")))
            else:
                bands.append((0.0, first))
    return bands


_DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
            "eighties": 80, "nineties": 90}
_SEX = {"female": r"\b(?:women|woman|females?|girls?|mothers?|moms?|wi(?:fe|ves)|daughters?|sisters?|aunts?|"
                  r"nieces?|grandmothers?|granddaughters?)\b",
        "male": r"\b(?:men|man|males?|boys?|fathers?|dads?|husbands?|sons?|brothers?|uncles?|nephews?|"
                r"grandfathers?|grandsons?)\b"}


@dataclass(frozen=True)
class Asker:
    """The person a question describes: the question without those details, their age (as [low, high) in
    years, when stated), their sex (when stated) and the nouns that name them ("a child", "my patient")."""

    topic: str
    ages: tuple[tuple[float, float], ...] = ()
    sexes: frozenset[str] = frozenset()
    nouns: frozenset[str] = frozenset()

    def age_fit(self, text: str) -> bool | None:
        """Whether the age bands ``text`` speaks of hold the asker's age: True when every one does, False when
        none does, None when some do (a table of bands) or either is unknown."""
        fits = set(self._fits(text))
        return fits.pop() if len(fits) == 1 else None

    def speaks_to_age(self, text: str) -> bool:
        """Whether one of the age bands ``text`` speaks of holds the asker's age, alone or in a table of bands
        ("once between ages 9 and 11 and again between 17 and 21" for a 10-year-old)."""
        return any(self._fits(text))

    def _fits(self, text: str) -> list[bool]:
        bands = age_bands(text) if self.ages else []
        return [any(low < b_high and b_low < high for low, high in self.ages) for b_low, b_high in bands]

    def person_fit(self, text: str) -> bool:
        """Whether ``text`` speaks of the asker's sex ("women" for "I'm a 60-year-old woman") or of the kind
        of person they are ("children get 2 doses" for "if a child starts...")."""
        if any(re.search(_SEX[sex], text, re.IGNORECASE) for sex in self.sexes):
            return True
        if not self.nouns:
            return False
        from .text import topic_words

        return bool(self.nouns & topic_words(text))


# "a child", "my patient", "an investor": the person the question is about, by what they are
_PERSON_NOUN = re.compile(rf"\b(?:a|an|my|our|his|her|their|your)\s+(?P<term>{PERSON})\b", re.IGNORECASE)


def asker(question: str) -> Asker:
    """Who ``question`` says is asking (every attribute's details), and what it asks with them set aside."""
    found = sorted(spans(question, ATTRIBUTES) + [(m.start("term"), m.end("term"), "person")
                                                   for m in _PERSON_NOUN.finditer(question)])
    ages, sexes, nouns, out, cursor = [], set(), set(), [], 0
    for start, end, attribute in found:
        text = question[start:end].lower()
        if attribute == "age":
            decade = next((value for word, value in _DECADES.items() if word in text), None)
            number = re.search(r"\d{1,3}", text)
            if decade is not None:
                ages.append((float(decade), decade + 10.0))
            elif number:
                value = float(number.group())
                value /= 12 if "month" in text else 52 if "week" in text else 1
                ages.append((value, value + (1 / 12 if "month" in text or "week" in text else 1)))
        elif attribute == "sex_gender":
            sexes.update(sex for sex, pattern in _SEX.items() if re.search(pattern, text))
        elif attribute == "person":
            nouns.add(text)
        if start >= cursor:
            out.append(question[cursor:start])
        cursor = max(cursor, end)
    out.append(question[cursor:])
    from .text import topic_words

    return Asker(topic=" ".join(out), ages=tuple(ages), sexes=frozenset(sexes),
                 nouns=frozenset(topic_words(" ".join(nouns))))
