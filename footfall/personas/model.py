"""The shapes of personas: a customer as the grouping reads them, the settings, a fitted
persona with its portrait, and a previous fit's centres that new ids are matched against.

Apart from the grouping (footfall.personas.clustering), so that reading customers and
showing personas do not load scikit-learn.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from footfall.feedback.model import Comment

TraitValue = str | float


@dataclass(frozen=True)
class CustomerFacts:
    """One customer as personas read them: behaviour, value, satisfaction, where and how
    they came, their demographic traits, the pages they viewed most and what they wrote."""

    customer_id: str
    purchases: int = 0
    revenue: float = 0.0
    clv_historical: float = 0.0
    clv_predicted: float | None = None
    nps: int | None = None
    sessions: int = 0
    converting_sessions: int = 0
    device: str | None = None
    country: str | None = None
    channel: str | None = None
    traits: Mapping[str, TraitValue] = field(default_factory=dict)
    pages: tuple[str, ...] = ()
    comments: tuple[Comment, ...] = ()


@dataclass(frozen=True)
class PersonaSettings:
    """How personas are found: the range of persona counts tried (the count with the best
    silhouette is kept), the smallest share of customers a persona holds (a handful of
    outliers is no persona: a tenth by default), and how much of each is shown."""

    min_personas: int = 2
    max_personas: int = 6
    min_share: float = 0.1
    name_features: int = 3
    shown_values: int = 3
    top_pages: int = 5
    problems: int = 3

    def __post_init__(self) -> None:
        if not 2 <= self.min_personas <= self.max_personas:
            raise ValueError(f"the personas tried must be a range from 2 up, got {self.min_personas} to {self.max_personas}")
        if not 0 <= self.min_share < 1 / self.max_personas:
            raise ValueError(f"a persona's smallest share must be from 0 to below 1/{self.max_personas}, got {self.min_share}")


@dataclass(frozen=True)
class Share:
    """A value a persona's members hold, and the share of members holding it."""

    value: str
    share: float


@dataclass(frozen=True)
class Problem:
    """A feedback theme the persona's members raise: its key words, their comments in it
    and how many of those come from detractors."""

    key_words: tuple[str, ...]
    comments: int
    detractors: int


@dataclass(frozen=True)
class Portrait:
    """Who the persona's members are and how they buy."""

    customers: int
    customer_share: float
    revenue_share: float
    # Of their sessions, the share with a purchase; None without sessions.
    conversion: float | None
    aov: float | None
    # Purchases per member.
    purchase_frequency: float
    clv_historical: float
    clv_predicted: float | None
    # % promoters - % detractors among the members who answered, and how many did.
    nps: float | None
    nps_answers: int
    # Categorical traits: the commonest values; numeric traits: the median.
    demographics: Mapping[str, tuple[Share, ...] | float]
    countries: tuple[Share, ...]
    devices: tuple[Share, ...]
    channels: tuple[Share, ...]
    top_pages: tuple[Share, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class Centre:
    """A persona's centre in its fit's standardised features, by feature name."""

    persona_id: int
    features: tuple[str, ...]
    centroid: tuple[float, ...]

    def at(self, names: tuple[str, ...]) -> list[float]:
        """The centre in another fit's features: a feature this fit did not have is at the
        population's typical value, 0 once standardised."""
        own = dict(zip(self.features, self.centroid))
        return [own.get(name, 0.0) for name in names]


@dataclass(frozen=True)
class Persona:
    persona_id: int
    name: str
    portrait: Portrait
    centre: Centre
    members: tuple[str, ...]


@dataclass(frozen=True)
class Personas:
    """A site's personas, largest first, and how their number was chosen."""

    personas: tuple[Persona, ...]
    customers: int
    criterion: str
