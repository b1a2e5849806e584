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
