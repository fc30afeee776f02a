"""A synthetic corpus with known PII: clinical notes and financial letters written with Faker (seeded).

Each document comes with its gold spans (type, start, end) over the text. Types are vetta.privacy's
placeholder types: PERSON, ORGANIZATION, ADDRESS, SSN, MRN, NPI, MEMBER_ID, DOB, IBAN, ACCOUNT,
CREDIT_CARD, EMAIL, PHONE. Formats vary the way real documents do (labels, date styles, phone styles,
grouped card numbers and IBANs), and every identifier with a checksum is valid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from faker import Faker

AREA_CODES = ["212", "213", "303", "305", "312", "404", "415", "503", "512", "602", "617", "646", "704", "713",
              "720", "808", "828", "904", "919", "971"]
COMPLAINTS = [
    ("community-acquired pneumonia", "amoxicillin"), ("an exacerbation of asthma", "prednisone"),
    ("poorly controlled type 2 diabetes", "metformin"), ("new-onset atrial fibrillation", "apixaban"),
    ("cellulitis of the left leg", "cephalexin"), ("a urinary tract infection", "nitrofurantoin"),
    ("hypertension", "lisinopril"), ("acute gout", "colchicine"), ("migraine without aura", "sumatriptan"),
]


@dataclass
class SyntheticDocument:
    kind: str
    text: str = ""
    gold: list[tuple[str, int, int]] = field(default_factory=list)
    people: list[str] = field(default_factory=list)  # full names, for the leak test's questions

    def add(self, text: str) -> "SyntheticDocument":
        self.text += text
        return self

    def pii(self, kind: str, value: str) -> "SyntheticDocument":
        self.gold.append((kind, len(self.text), len(self.text) + len(value)))
        self.text += value
        return self

    def values(self) -> list[tuple[str, str]]:
        return [(kind, self.text[start:end]) for kind, start, end in self.gold]


def luhn_check_digit(digits: str) -> str:
    total = 0
    for position, char in enumerate(reversed(digits + "0")):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


class Writer:
    def __init__(self, seed: int):
        self.fake = Faker("en_US")
        self.fake.seed_instance(seed)
        self.ibans = [Faker(locale) for locale in ("en_GB", "de_DE", "fr_FR", "nl_NL", "es_ES", "it_IT")]
        for number, faker in enumerate(self.ibans):
            faker.seed_instance(seed * 100 + number)
        self.rng = random.Random(seed)

    # --- values -------------------------------------------------------------------------------------------
    def person(self) -> tuple[str, str, str]:
        sex = self.rng.choice("FM")
        first = self.fake.first_name_female() if sex == "F" else self.fake.first_name_male()
        return first, self.fake.last_name(), sex

    def phone(self) -> str:
        area, exchange, line = self.rng.choice(AREA_CODES), self.rng.randint(200, 989), self.rng.randint(0, 9999)
        style = self.rng.choice(["({a}) {e}-{l:04d}", "{a}-{e}-{l:04d}", "{a}.{e}.{l:04d}", "+1 {a}-{e}-{l:04d}",
                                 "({a}) {e}-{l:04d} ext. {x}"])
        return style.format(a=area, e=exchange, l=line, x=self.rng.randint(10, 999))

    def date(self, when) -> str:
        return when.strftime(self.rng.choice(["%m/%d/%Y", "%B %d, %Y", "%Y-%m-%d", "%d %B %Y", "%b %d, %Y"]))

    def npi(self) -> str:
        body = self.rng.choice("12") + "".join(str(self.rng.randint(0, 9)) for _ in range(8))
        return body + luhn_check_digit("80840" + body)

    def ssn(self) -> str:
        return self.fake.ssn()

    def mrn(self) -> str:
        return self.fake.bothify(self.rng.choice(["########", "#######", "MR########", "E#########", "##-####-##"]))

    def member_id(self) -> str:
        return self.fake.bothify(self.rng.choice(["???#########", "W#########", "XE#######-01", "##########"])).upper()

    def iban(self) -> str:
        iban = self.rng.choice(self.ibans).iban()
        if self.rng.random() < 0.5:
            iban = " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
        return iban

    def card(self) -> str:
        number = self.fake.credit_card_number(card_type=self.rng.choice(["visa16", "mastercard", "amex", "discover"]))
        if len(number) == 16 and self.rng.random() < 0.5:
            number = " ".join(number[i:i + 4] for i in range(0, 16, 4))
        return number

    def account(self) -> str:
        return self.fake.numerify(self.rng.choice(["##########", "###########", "########", "####-#####-##"]))

    def address(self) -> tuple[str, str]:
        street = self.fake.street_address()
        return street, f"{self.fake.city()}, {self.fake.state_abbr(include_territories=False)} {self.fake.zipcode()}"

    def organisation(self) -> str:
        return self.rng.choice([
            self.fake.company(), f"{self.fake.last_name()} Health Partners", f"{self.fake.city()} Medical Group",
            f"{self.fake.last_name()} & {self.fake.last_name()} LLP", self.fake.company(),
        ])

    # --- documents ----------------------------------------------------------------------------------------
    def clinical_note(self) -> SyntheticDocument:
        r, doc = self.rng, SyntheticDocument("clinical")
        first, last, sex = self.person()
        dr_first, dr_last, _ = self.person()
        title, pronoun = ("Ms.", "She") if sex == "F" else ("Mr.", "He")
        complaint, drug = r.choice(COMPLAINTS)
        born = self.fake.date_of_birth(minimum_age=18, maximum_age=90)
        street, city_line = self.address()
        phone = self.phone()
        doc.people += [f"{first} {last}", f"{dr_first} {dr_last}"]
        doc.add(r.choice(["Discharge summary", "Clinic visit note", "Referral letter", "Progress note"]) + "\n\n")
        doc.add(r.choice(["Patient: ", "Patient name: ", "Name: "]).rstrip() + " ").pii("PERSON", f"{first} {last}")
        doc.add(r.choice(["\nDOB: ", "\nDate of birth: ", "\nD.O.B. "])).pii("DOB", self.date(born))
        doc.add(r.choice(["   MRN: ", "\nMedical record number: ", "\nMRN# "])).pii("MRN", self.mrn())
        doc.add("\nAddress: ").pii("ADDRESS", f"{street}, {city_line}")
        doc.add(r.choice(["\nPhone: ", "\nTel: ", "\nHome phone: "])).pii("PHONE", phone)
        doc.add(r.choice(["   Email: ", "\nE-mail: "])).pii("EMAIL", self.fake.email())
        doc.add("\nInsurance: ").pii("ORGANIZATION", self.organisation())
        doc.add(r.choice([", member ID ", ", Member ID: ", ", subscriber ID "])).pii("MEMBER_ID", self.member_id())
        doc.add(r.choice(["\nSSN: ", "\nSocial security number: "])).pii("SSN", self.ssn())
        doc.add("\nReferring provider: Dr. ").pii("PERSON", f"{dr_first} {dr_last}")
        opening, closing = r.choice([(", NPI ", "\n\n"), (" (NPI: ", ")\n\n")])
        doc.add(opening).pii("NPI", self.npi()).add(closing)
        doc.pii("PERSON", f"{first} {last}").add(f" is a {r.randint(19, 89)}-year-old who presents with {complaint}. ")
        doc.add(f"{pronoun} was started on {drug} and tolerated it well. ")
        doc.add(f"{title} ").pii("PERSON", last).add(" works at ").pii("ORGANIZATION", self.organisation())
        doc.add(" and lives with family. Vital signs were stable on review.\n\n")
        doc.add(r.choice(["Plan: ", "Follow-up: "]) + "continue " + drug + " and review in two weeks with Dr. ")
        doc.pii("PERSON", dr_last).add(". The patient can be reached at ").pii("PHONE", phone).add(".\n")
        return doc

    def financial_letter(self) -> SyntheticDocument:
        r, doc = self.rng, SyntheticDocument("financial")
        first, last, sex = self.person()
        adv_first, adv_last, _ = self.person()
        bank = self.organisation()
        street, city_line = self.address()
        doc.people += [f"{first} {last}", f"{adv_first} {adv_last}"]
        doc.pii("ORGANIZATION", bank).add("\n")
        bank_street, bank_city = self.address()
        doc.pii("ADDRESS", f"{bank_street}\n{bank_city}").add("\n\n")
        doc.add(self.fake.date_between("-2y", "today").strftime("%B %d, %Y") + "\n\n")
        doc.pii("PERSON", f"{first} {last}").add("\n").pii("ADDRESS", f"{street}\n{city_line}").add("\n\n")
        doc.add(r.choice(["Re: Account number ", "Re: your account no. ", "Subject: Account # "]))
        doc.pii("ACCOUNT", self.account()).add("\n\n")
        doc.add(f"Dear {'Ms.' if sex == 'F' else 'Mr.'} ").pii("PERSON", last).add(",\n\n")
        doc.add(r.choice([
            "Thank you for your recent request to update the payment details on your portfolio. ",
            "We are writing to confirm the transfer you requested from your brokerage account. ",
            "This letter confirms the annual review of your retirement savings plan. ",
        ]))
        doc.add("Funds will be paid to IBAN ").pii("IBAN", self.iban()).add(" within three business days. ")
        doc.add("The card on file, ").pii("CREDIT_CARD", self.card()).add(", will no longer be charged the annual fee. ")
        doc.add("For tax reporting we hold the social security number ").pii("SSN", self.ssn()).add(". ")
        doc.add("If anything is wrong, call us at ").pii("PHONE", self.phone()).add(" or write to ")
        doc.pii("EMAIL", self.fake.email()).add(".\n\nSincerely,\n\n").pii("PERSON", f"{adv_first} {adv_last}")
        doc.add("\nSenior Adviser, ").pii("ORGANIZATION", bank).add("\n")
        return doc


def generate(seed: int, count: int) -> list[SyntheticDocument]:
    """``count`` documents, half clinical notes and half financial letters, the same for the same seed."""
    writer = Writer(seed)
    return [writer.clinical_note() if number % 2 == 0 else writer.financial_letter() for number in range(count)]
