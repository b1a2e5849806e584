"""A site's personas from its customers: grouped, given stable ids, named and portrayed.

Pure apart from scikit-learn and SciPy: customers in, personas out, so every rule is tested
without a warehouse. The customers are taken in the order of their ids, so the same
customers in any order give the same personas.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from footfall.feedback.model import Comment
from footfall.personas.clustering import grouped
from footfall.personas.features import matrix
from footfall.personas.identity import stable_ids
from footfall.personas.model import Centre, CustomerFacts, Persona, Personas, PersonaSettings, Problem
from footfall.personas.naming import distinguishing, persona_name
from footfall.personas.portrait import portrait, revenue_of

Problems = Callable[[Sequence[Comment], int], tuple[Problem, ...]]


def no_problems(comments: Sequence[Comment], limit: int) -> tuple[Problem, ...]:
    return ()


def distinct_names(personas: list[Persona]) -> list[Persona]:
    """Personas whose names coincide are told apart by their ids."""
    counts = Counter(persona.name for persona in personas)
    return [persona if counts[persona.name] == 1 else
            Persona(persona.persona_id, f"{persona.name} (#{persona.persona_id})", persona.portrait, persona.centre, persona.members)
            for persona in personas]


def find_personas(customers: Sequence[CustomerFacts], settings: PersonaSettings = PersonaSettings(),
                  previous: Sequence[Centre] = (), problems: Problems = no_problems) -> Personas:
    """The customers' personas, largest first; ids matched to `previous` (the last fit's centres)."""
    ordered = sorted({facts.customer_id: facts for facts in reversed(customers)}.values(), key=lambda facts: facts.customer_id)
    if not ordered:
        return Personas((), 0, "no customers")
    features = matrix(ordered)
    labels, criterion = grouped(features.rows, settings)
    groups = sorted(set(labels.tolist()))
    members = [np.flatnonzero(labels == group) for group in groups]
    centroids = np.array([features.rows[index].mean(axis=0) for index in members]).reshape(len(groups), len(features.columns))
    ids = stable_ids(centroids, features.columns, [len(index) for index in members], previous)
    overall = features.rows.mean(axis=0) if features.columns else np.zeros(0)
    revenue = sum(revenue_of(facts) for facts in ordered)
    personas = []
    for persona_id, index, centroid in zip(ids, members, centroids):
        people = [ordered[position] for position in index]
        comments = [comment for facts in people for comment in facts.comments]
        drawn = portrait(people, len(ordered), revenue, settings, problems(comments, settings.problems))
        picked = distinguishing(features.columns, centroid.tolist(), overall.tolist(), settings.name_features)
        buyers = sum(1 for facts in people if facts.purchases > 0) > len(people) / 2
        centre = Centre(persona_id, features.columns, tuple(float(value) for value in centroid))
        personas.append(Persona(persona_id, persona_name(picked, buyers, drawn.demographics), drawn, centre,
                                tuple(facts.customer_id for facts in people)))
    personas.sort(key=lambda persona: (-persona.portrait.customers, persona.persona_id))
    return Personas(tuple(distinct_names(personas)), len(ordered), criterion)
