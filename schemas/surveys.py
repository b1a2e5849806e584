"""The survey measures (NPS, CSAT, CES) as numbers, defined once.

The processors classify each answer with them and the report's SQL is built from them, so
a customer's live category and the report's scores cannot disagree on what a promoter is.
"""

from __future__ import annotations

from collections.abc import Mapping

# The track event a site sends for each answer, with properties survey, score and comment.
SURVEY_EVENT = "Survey Responded"

# Each survey's scale, lowest and highest score: NPS "how likely are you to recommend us",
# CSAT "how satisfied were you", CES "how easy was it" (higher is easier; CES is the mean).
SCALES: Mapping[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}

# NPS: promoters score PROMOTER_MIN or more, passives PASSIVE_MIN or more, detractors
# less; NPS = % promoters - % detractors.
PROMOTER, PASSIVE, DETRACTOR = "promoter", "passive", "detractor"
PROMOTER_MIN = 9
PASSIVE_MIN = 7

# CSAT: the share of answers of SATISFIED_MIN or more.
SATISFIED_MIN = 4

# A comment is what a person typed: the collector cuts it at this many characters, after
# masking it, and every later reader may rely on the bound.
COMMENT_MAX_CHARS = 2000

# Each survey's answers in three bands, so feedback from every survey reads alike: the lowest
# score of the middle band and of the top band. NPS's are its own (0-6 detractors, 7-8
# passives, 9-10 promoters); CSAT's top band is its satisfied answers (4-5), 3 the neutral
# middle, 1-2 the dissatisfied; CES's 7-point agreement scale puts 5-7 (easy) on top, 4 the
# neutral middle, 1-3 (hard) at the bottom.
BANDS: Mapping[str, tuple[int, int]] = {"nps": (PASSIVE_MIN, PROMOTER_MIN), "csat": (3, SATISFIED_MIN), "ces": (4, 5)}


def band(survey: str, score: int) -> str:
    """Detractor, passive or promoter: the band of a score on its survey's scale."""
    passive_min, promoter_min = BANDS[survey]
    if score >= promoter_min:
        return PROMOTER
    return PASSIVE if score >= passive_min else DETRACTOR
