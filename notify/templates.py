"""Messages' words: plain English, short, and in Welsh and Polish for households that need them.

One table: (template, language) -> subject, body (email and letter) and sms (160 characters or
so). Placeholders are ``{name}`` fields filled by ``render``; a value not known is left out of
the sentence by the caller rather than printed as a placeholder. A message in another language
carries the English text after it, so whoever helps the household can read it too.

Translations: the Welsh (``cy``) and Polish (``pl``) texts were drafted by the engineering team
and must be reviewed by a qualified translator before use with tenants (for Welsh, one working to
the Welsh Language Standards). Staff messages are in English only.

Language choice (``choose_language``): the tenancy's ``language`` (BCP 47: its primary subtag)
when we have templates in it; else a language named in the household's ``language_needs``
("Welsh", "Cymraeg", "pl"...); else English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGES: tuple[str, ...] = ("en", "cy", "pl")

_LANGUAGE_NAMES = {
    "en": ("english",),
    "cy": ("welsh", "cymraeg", "cymraes"),
    "pl": ("polish", "polski", "polska"),
}

HAZARD_WORDS: dict[str, dict[str, str]] = {
    "cy": {
        "damp_and_mould": "lleithder a llwydni",
        "excess_cold": "oerfel gormodol",
        "excess_heat": "gwres gormodol",
    },
    "pl": {
        "damp_and_mould": "wilgoć i pleśń",
        "excess_cold": "nadmierne zimno",
        "excess_heat": "nadmierne ciepło",
    },
}


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    sms: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    sms: str
    language: str


_EN_FOOT = "If you need to talk to us, contact {landlord}{contact}."
_CY_FOOT = "Os oes angen i chi siarad â ni, cysylltwch â {landlord}{contact}."
_PL_FOOT = "Jeśli chcesz z nami porozmawiać, skontaktuj się z {landlord}{contact}."

TEMPLATES: dict[tuple[str, str], Template] = {
    # --- to the tenant -----------------------------------------------------------------------
    ("report_received", "en"): Template(
        "We have your report ({reference})",
        "Thank you for telling us about {hazard} at your home. Your reference is {reference}.\n\n"
        "We will be in touch to arrange a look at the problem. If anyone is in danger now, "
        "call 999. If you smell gas, call 0800 111 999.\n\n" + _EN_FOOT,
        "{landlord}: we have your report about {hazard}, reference {reference}. We will be in "
        "touch. Danger now: call 999.",
    ),
    ("report_received", "cy"): Template(
        "Rydym wedi cael eich adroddiad ({reference})",
        "Diolch am ddweud wrthym am {hazard} yn eich cartref. Eich cyfeirnod yw {reference}.\n\n"
        "Byddwn yn cysylltu â chi i drefnu edrych ar y broblem. Os oes unrhyw un mewn perygl "
        "nawr, ffoniwch 999. Os ydych yn arogli nwy, ffoniwch 0800 111 999.\n\n" + _CY_FOOT,
        "{landlord}: mae eich adroddiad am {hazard} gennym, cyfeirnod {reference}. Byddwn yn "
        "cysylltu. Perygl nawr: ffoniwch 999.",
    ),
    ("report_received", "pl"): Template(
        "Otrzymaliśmy Twoje zgłoszenie ({reference})",
        "Dziękujemy za zgłoszenie problemu ({hazard}) w Twoim domu. Twój numer zgłoszenia to "
        "{reference}.\n\nSkontaktujemy się, aby umówić oględziny. Jeśli ktoś jest teraz w "
        "niebezpieczeństwie, zadzwoń pod 999. Jeśli czujesz gaz, zadzwoń pod 0800 111 999.\n\n"
        + _PL_FOOT,
        "{landlord}: mamy Twoje zgłoszenie ({hazard}), numer {reference}. Skontaktujemy się. "
        "Zagrożenie: dzwoń 999.",
    ),
    ("investigation_booked", "en"): Template(
        "We are coming to look at the problem ({reference})",
        "We have booked a visit to look at {hazard} at your home{when}. If this time does not "
        "suit you, please tell us as soon as you can.\n\n" + _EN_FOOT,
        "{landlord}: we will visit to look at {hazard}{when}. Ref {reference}. Tell us if the "
        "time does not suit you.",
    ),
    ("investigation_booked", "cy"): Template(
        "Rydym yn dod i edrych ar y broblem ({reference})",
        "Rydym wedi trefnu ymweliad i edrych ar {hazard} yn eich cartref{when}. Os nad yw'r "
        "amser hwn yn gyfleus, rhowch wybod i ni cyn gynted â phosibl.\n\n" + _CY_FOOT,
        "{landlord}: byddwn yn ymweld i edrych ar {hazard}{when}. Cyf {reference}.",
    ),
    ("investigation_booked", "pl"): Template(
        "Przyjdziemy obejrzeć problem ({reference})",
        "Umówiliśmy wizytę, aby obejrzeć problem ({hazard}) w Twoim domu{when}. Jeśli ten "
        "termin Ci nie odpowiada, daj nam znać jak najszybciej.\n\n" + _PL_FOOT,
        "{landlord}: przyjdziemy obejrzeć problem ({hazard}){when}. Nr {reference}.",
    ),
    ("written_summary", "en"): Template(
        "What we found at your home ({reference})",
        "We have looked into {hazard} at your home. Our written summary of what we found and "
        "what we will do is below, and attached as a PDF you can print.\n\n" + _EN_FOOT,
        "{landlord}: our written summary of what we found at your home is on its way by post. "
        "Ref {reference}.",
    ),
    ("written_summary", "cy"): Template(
        "Beth a welsom ni yn eich cartref ({reference})",
        "Rydym wedi ymchwilio i {hazard} yn eich cartref. Mae ein crynodeb ysgrifenedig o'r "
        "hyn a welsom a'r hyn y byddwn yn ei wneud isod, ac ynghlwm fel PDF.\n\n" + _CY_FOOT,
        "{landlord}: mae ein crynodeb ysgrifenedig ar ei ffordd drwy'r post. Cyf {reference}.",
    ),
    ("written_summary", "pl"): Template(
        "Co ustaliliśmy w Twoim domu ({reference})",
        "Sprawdziliśmy problem ({hazard}) w Twoim domu. Nasze pisemne podsumowanie ustaleń i "
        "planowanych prac znajduje się poniżej oraz w załączonym pliku PDF.\n\n" + _PL_FOOT,
        "{landlord}: pisemne podsumowanie jest w drodze pocztą. Nr {reference}.",
    ),
    ("work_booked", "en"): Template(
        "Work on your home is booked ({reference})",
        "We have booked the work to put right {hazard} at your home{when}. If this time does "
        "not suit you, please tell us as soon as you can.\n\n" + _EN_FOOT,
        "{landlord}: work on {hazard} at your home is booked{when}. Ref {reference}.",
    ),
    ("work_booked", "cy"): Template(
        "Mae gwaith ar eich cartref wedi'i drefnu ({reference})",
        "Rydym wedi trefnu'r gwaith i gywiro {hazard} yn eich cartref{when}. Os nad yw'r amser "
        "hwn yn gyfleus, rhowch wybod i ni cyn gynted â phosibl.\n\n" + _CY_FOOT,
        "{landlord}: mae gwaith ar {hazard} wedi'i drefnu{when}. Cyf {reference}.",
    ),
    ("work_booked", "pl"): Template(
        "Prace w Twoim domu są zaplanowane ({reference})",
        "Zaplanowaliśmy prace naprawcze ({hazard}) w Twoim domu{when}. Jeśli ten termin Ci nie "
        "odpowiada, daj nam znać jak najszybciej.\n\n" + _PL_FOOT,
        "{landlord}: prace ({hazard}) zaplanowane{when}. Nr {reference}.",
    ),
    ("work_completed", "en"): Template(
        "The work on your home is done ({reference})",
        "The work to put right {hazard} at your home is finished. If the problem comes back, "
        "or you are not happy with the work, please tell us.\n\n" + _EN_FOOT,
        "{landlord}: the work on {hazard} at your home is done. Tell us if the problem comes "
        "back. Ref {reference}.",
    ),
    ("work_completed", "cy"): Template(
        "Mae'r gwaith ar eich cartref wedi'i wneud ({reference})",
        "Mae'r gwaith i gywiro {hazard} yn eich cartref wedi gorffen. Os daw'r broblem yn ôl, "
        "neu os nad ydych yn hapus â'r gwaith, rhowch wybod i ni.\n\n" + _CY_FOOT,
        "{landlord}: mae'r gwaith ar {hazard} wedi'i wneud. Cyf {reference}.",
    ),
    ("work_completed", "pl"): Template(
        "Prace w Twoim domu zostały zakończone ({reference})",
        "Prace naprawcze ({hazard}) w Twoim domu zostały zakończone. Jeśli problem wróci albo "
        "nie jesteś zadowolony z prac, daj nam znać.\n\n" + _PL_FOOT,
        "{landlord}: prace ({hazard}) zakończone. Nr {reference}.",
    ),
    # --- one question at each milestone of a repair (equity.residents; a one-time link) --------
    ("survey_dispatch", "en"): Template(
        "One question about your repair ({reference})",
        "We have sent someone to put right {hazard} at your home. How happy are you with how "
        "quickly we arranged it? It is one question, with a box to tell us more if you want:\n\n"
        "{survey_link}\n\nThe link works once and closes after 30 days.\n\n" + _EN_FOOT,
        "{landlord}: how happy are you with how quickly we arranged your repair? One question: "
        "{survey_link}",
    ),
    ("survey_dispatch", "cy"): Template(
        "Un cwestiwn am eich atgyweiriad ({reference})",
        "Rydym wedi anfon rhywun i gywiro {hazard} yn eich cartref. Pa mor hapus ydych chi â pha "
        "mor gyflym y gwnaethom ei drefnu? Un cwestiwn yw e:\n\n{survey_link}\n\n"
        "Mae'r ddolen yn gweithio unwaith ac yn cau ar ôl 30 diwrnod.\n\n" + _CY_FOOT,
        "{landlord}: pa mor hapus ydych chi â pha mor gyflym y trefnwyd eich atgyweiriad? "
        "{survey_link}",
    ),
    ("survey_dispatch", "pl"): Template(
        "Jedno pytanie o naprawę ({reference})",
        "Wysłaliśmy pracownika do naprawy ({hazard}) w Twoim domu. Jak oceniasz, jak szybko to "
        "zorganizowaliśmy? To jedno pytanie:\n\n{survey_link}\n\nLink działa raz i wygasa po "
        "30 dniach.\n\n" + _PL_FOOT,
        "{landlord}: jak oceniasz szybkość organizacji naprawy? {survey_link}",
    ),
    ("survey_completion", "en"): Template(
        "How was your repair? ({reference})",
        "The work to put right {hazard} at your home is finished. How happy are you with it, and "
        "with the person who did it? It takes a minute:\n\n{survey_link}\n\n"
        "The link works once and closes after 30 days.\n\n" + _EN_FOOT,
        "{landlord}: how happy are you with the repair at your home? One question: {survey_link}",
    ),
    ("survey_completion", "cy"): Template(
        "Sut oedd eich atgyweiriad? ({reference})",
        "Mae'r gwaith i gywiro {hazard} yn eich cartref wedi gorffen. Pa mor hapus ydych chi ag "
        "ef? Mae'n cymryd munud:\n\n{survey_link}\n\n"
        "Mae'r ddolen yn gweithio unwaith ac yn cau ar ôl 30 diwrnod.\n\n" + _CY_FOOT,
        "{landlord}: pa mor hapus ydych chi â'r atgyweiriad? {survey_link}",
    ),
    ("survey_completion", "pl"): Template(
        "Jak oceniasz naprawę? ({reference})",
        "Prace naprawcze ({hazard}) w Twoim domu zostały zakończone. Jak je oceniasz? To zajmie "
        "minutę:\n\n{survey_link}\n\nLink działa raz i wygasa po 30 dniach.\n\n" + _PL_FOOT,
        "{landlord}: jak oceniasz naprawę? {survey_link}",
    ),
    ("survey_block", "en"): Template(
        "Work in your building: one question",
        "We have finished work on the shared parts of your building. How happy are you with it? "
        "It is one question, with a box to tell us more if you want:\n\n{survey_link}\n\n"
        "The link works once and closes after 30 days.\n\n" + _EN_FOOT,
        "{landlord}: we finished work in your building's shared parts. How was it? {survey_link}",
    ),
    ("survey_block", "cy"): Template(
        "Gwaith yn eich adeilad: un cwestiwn",
        "Rydym wedi gorffen gwaith ar rannau a rennir o'ch adeilad. Pa mor hapus ydych chi ag "
        "ef?\n\n{survey_link}\n\nMae'r ddolen yn gweithio unwaith.\n\n" + _CY_FOOT,
        "{landlord}: sut oedd y gwaith yn eich adeilad? {survey_link}",
    ),
    ("survey_block", "pl"): Template(
        "Prace w Twoim budynku: jedno pytanie",
        "Zakończyliśmy prace w częściach wspólnych Twojego budynku. Jak je oceniasz?\n\n"
        "{survey_link}\n\nLink działa raz.\n\n" + _PL_FOOT,
        "{landlord}: jak oceniasz prace w budynku? {survey_link}",
    ),
    # --- to staff (English) ------------------------------------------------------------------
    ("emergency_new", "en"): Template(
        "EMERGENCY: case {case_id}, {hazard}, home {home_id}",
        "A potential emergency hazard ({hazard}) is on case {case_id} at home {home_id}, from "
        "{source}. The 24-hour clock runs to {due}.\nAssigned to: {assigned}.\n{link}",
        "EMERGENCY case {case_id}: {hazard} at home {home_id}, due {due}. {link}",
    ),
    ("clock_alert", "en"): Template(
        "Due soon: case {case_id}, {duty} by {due}",
        "Case {case_id} ({hazard}, home {home_id}): the {duty} clock falls due at {due}; "
        "{left} left.\nAssigned to: {assigned}.\n{link}",
        "Case {case_id}: {duty} due {due} ({left} left). {link}",
    ),
    ("clock_breached", "en"): Template(
        "BREACHED: case {case_id}, {duty} was due {due}",
        "Case {case_id} ({hazard}, home {home_id}): the {duty} clock was due at {due} and is "
        "breached. Record the reasonable endeavours made, and what happens next.\n"
        "Assigned to: {assigned}.\n{link}",
        "BREACH case {case_id}: {duty} was due {due}. {link}",
    ),
    ("repair_recurred", "en"): Template(
        "Hazard back after repair: case {case_id}, work order {work_order_id}",
        "Sensors found {hazard} again at home {home_id} after work order {work_order_id} "
        "({contractor}) was completed. Case {case_id} needs a look.\n{link}",
        "Case {case_id}: {hazard} back after work order {work_order_id}. {link}",
    ),
}

_INTRO = {
    "cy": "Mae'r fersiwn Saesneg isod. (The English version is below.)",
    "pl": "Wersja angielska znajduje się poniżej. (The English version is below.)",
}


class _Fields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def primary_subtag(tag: str | None) -> str | None:
    """'cy-GB' -> 'cy'; None for an empty tag."""
    if not tag or not tag.strip():
        return None
    return re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]


def choose_language(tenancy_language: str | None, language_needs: str | None) -> str:
    """The messages' language: the tenancy's, else one named in the household's needs, else en."""
    primary = primary_subtag(tenancy_language)
    if primary in LANGUAGES:
        return primary
    needs = (language_needs or "").lower()
    for language, names in _LANGUAGE_NAMES.items():
        if language == "en":
            continue
        words = set(re.findall(r"[a-z]+", needs))
        if language in words or any(name in needs for name in names):
            return language
    return "en"


def hazard_words(hazard: str, language: str) -> str:
    """The hazard in the message's language where we have it, else in plain English words."""
    return HAZARD_WORDS.get(language, {}).get(hazard) or hazard.replace("_", " ")


def render(name: str, language: str, fields: dict[str, str]) -> Rendered:
    """The template in the language (English where there is none), with the English after it."""
    language = language if (name, language) in TEMPLATES else "en"
    english = TEMPLATES[(name, "en")]
    english_fields = _Fields({**fields, "hazard": hazard_words(fields.get("hazard_key", ""), "en")})
    local_fields = _Fields(
        {**fields, "hazard": hazard_words(fields.get("hazard_key", ""), language)}
    )
    en_subject = english.subject.format_map(english_fields)
    en_body = english.body.format_map(english_fields)
    if language == "en":
        return Rendered(en_subject, en_body, english.sms.format_map(english_fields), "en")
    local = TEMPLATES[(name, language)]
    subject = local.subject.format_map(local_fields)
    body = (
        f"{_INTRO[language]}\n\n{local.body.format_map(local_fields)}\n\n"
        f"--- English ---\n\n{en_body}"
    )
    return Rendered(subject, body, local.sms.format_map(local_fields), language)
