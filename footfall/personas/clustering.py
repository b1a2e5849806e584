"""Customers grouped by k-means (scikit-learn) on their standardised features.

The number of groups is the one in the configured range whose grouping has the best
silhouette (euclidean): how much closer each customer is to its own group than to the next;
a grouping with a group smaller than the settings' share of customers (and than two) is not
considered, so that a few outliers are never a persona of their own.
A fixed random state, and customers taken in the order of their ids, make a rerun on the same
customers give the same groups. Fewer than three distinct customers, or no split with a
positive silhouette, is one group.
"""

from __future__ import annotations

import math

import numpy as np

from footfall.personas.model import PersonaSettings
from footfall.silhouette import best_grouping

# The silhouette is computed on at most this many customers (it costs their square).
SILHOUETTE_SAMPLE = 3000


def one_group(rows: np.ndarray, reason: str) -> tuple[np.ndarray, str]:
    return np.zeros(rows.shape[0], dtype=int), f"one persona: {reason}"


def grouped(rows: np.ndarray, settings: PersonaSettings) -> tuple[np.ndarray, str]:
    """Each customer's group (0, 1, …), and the criterion that chose how many there are."""
    if rows.shape[0] == 0:
        return np.zeros(0, dtype=int), "no customers"
    distinct = len(np.unique(rows, axis=0)) if rows.shape[1] else 1
    highest = min(settings.max_personas, distinct - 1)
    if highest < settings.min_personas:
        return one_group(rows, f"{distinct} distinct customer(s) cannot be told apart")
    smallest = max(2, math.ceil(settings.min_share * rows.shape[0]))
    best = best_grouping(rows, range(settings.min_personas, highest + 1), "euclidean", SILHOUETTE_SAMPLE, smallest)
    if best is None or best[0] <= 0:
        return one_group(rows, f"no split into {settings.min_personas}-{highest} personas of {smallest}+ customers "
                               "each has a positive silhouette")
    score, count, labels = best
    return labels, (f"{count} personas: the best silhouette (euclidean, {score:.2f}) of {settings.min_personas}-{highest}, "
                    f"each of {smallest}+ customers")
