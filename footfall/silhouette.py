"""How many groups k-means should make of some rows: the count, within a range, whose
grouping has the best silhouette. Feedback themes and personas both choose so; a fixed
random state makes a rerun on the same rows give the same groups."""

from __future__ import annotations

import numpy as np
from scipy.sparse import spmatrix
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

RANDOM_STATE = 0


def best_grouping(rows: np.ndarray | spmatrix, counts: range, metric: str, sample: int,
                  smallest: int = 0) -> tuple[float, int, np.ndarray] | None:
    """(silhouette, count, each row's group) of the best grouping among `counts`; one of a
    single group, or with a group of fewer than `smallest` rows, is not considered. The
    silhouette is computed on at most `sample` rows (it costs their square). None when no
    grouping is considered."""
    best: tuple[float, int, np.ndarray] | None = None
    for count in counts:
        labels = KMeans(n_clusters=count, n_init=10, random_state=RANDOM_STATE).fit_predict(rows)
        sizes = np.bincount(labels)
        if len(sizes) < 2 or sizes.min() < smallest:
            continue
        score = float(silhouette_score(rows, labels, metric=metric, sample_size=min(sample, rows.shape[0]), random_state=RANDOM_STATE))
        if best is None or score > best[0]:
            best = (score, count, labels)
    return best
