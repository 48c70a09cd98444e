"""Which stemmer a text needs when its row names no language: Spanish or English, by counting stopwords.

Why a guess: documents carry their language, but records (nonconformities, risks, gifts) and attachments do not;
Spanish is the organisation's default, so a tie or a text without stopwords is Spanish.
"""

from __future__ import annotations

import re

from .types import Lang


def _words(text: str) -> list[str]:
    return text.split()


_ES = frozenset(_words("""de la que el en y a los se del las un por con no una su para es al lo como más pero sus le ya
o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante todos uno
les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto esa estos
mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros se ha han fue son está según cada
deben debe será"""))
_EN = frozenset(_words("""the of and to in is that for it as was with be by on not he this are or his from at which but
have an they you were her she there been has their one all would will what if can when so no who had its more
into than them only other some could these then do does our may must should shall each any such"""))
_WORD = re.compile(r"[^\W\d_]+")
SAMPLE_CHARS = 20_000  # the first pages say which language a text is in; reading all of it changes nothing


def guess_lang(text: str) -> Lang:
    """"en" when English stopwords outnumber Spanish ones in the text's beginning, else "es"."""
    es = en = 0
    for word in _WORD.findall(text[:SAMPLE_CHARS].lower()):
        es += word in _ES
        en += word in _EN
    return "en" if en > es else "es"
