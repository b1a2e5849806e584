"""Persona ids that survive a refit: each new group takes the id of the previous fit's
persona whose centre is nearest, matched one to one so that the total distance is least
(the Hungarian assignment, scipy.optimize.linear_sum_assignment). Groups left over take ids
never used by the previous fit, larger groups first; a persona that disappeared leaves its
id unused.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment

from footfall.personas.model import Centre


def stable_ids(centroids: np.ndarray, columns: tuple[str, ...], sizes: Sequence[int], previous: Sequence[Centre]) -> list[int]:
    """An id for each new group (row of `centroids`, in `columns`), in the groups' order."""
    count = centroids.shape[0]
    ids: list[int | None] = [None] * count
    if previous and count:
        before = np.array([centre.at(columns) for centre in previous], dtype=float).reshape(len(previous), len(columns))
        cost = np.linalg.norm(centroids[:, None, :] - before[None, :, :], axis=2)
        for group, match in zip(*linear_sum_assignment(cost)):
            ids[group] = previous[match].persona_id
    fresh = max((centre.persona_id for centre in previous), default=0) + 1
    for group in sorted(range(count), key=lambda index: (-sizes[index], index)):
        if ids[group] is None:
            ids[group] = fresh
            fresh += 1
    return [int(persona_id) for persona_id in ids if persona_id is not None]
