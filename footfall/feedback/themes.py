"""Survey comments grouped into themes by the words they share, in any language.

Pure: comments and their scores in, themes out, so every rule here is tested without a
warehouse. Nothing assumes English. Words are runs of letters in any script (Unicode's
compatibility form, case-folded), so Russian, Vietnamese and English are read alike; pairs of
neighbouring words count too, because Vietnamese writes a word as several syllables ("giao
hàng", delivery). Stop words are not listed for one language but found in the corpus: a
word in more than `max_df` of the comments says nothing about any one of them, and a theme's
key words are the words that set it apart from the other themes, which words used in every
theme do not. Terms are weighted by TF-IDF and grouped by k-means (scikit-learn) on the
normalised vectors; the number of themes is the one in the configured range with the best
silhouette (cosine), and a fixed random state makes a rerun on the same comments give the
same themes.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from footfall.feedback.model import Comment, Theme, Themes, ThemeSettings
from footfall.silhouette import best_grouping
from schemas.surveys import COMMENT_MAX_CHARS, band

# Two letters or more of any script: a lone letter ("a", "и", "à") carries no theme.
WORD = re.compile(r"[^\W\d_]{2,}")
# A key word scores at least this share of the theme's best one.
KEY_WORD_MIN_RATIO = 0.5
# The silhouette is computed on at most this many comments (it costs their square).
SILHOUETTE_SAMPLE = 2000
# Below this many comments, frequencies say too little to call any word a stop word.
STOP_WORD_MIN_COMMENTS = 10


def words(text: str) -> list[str]:
    """The words of a comment, in any script, bounded as comments are."""
    return WORD.findall(unicodedata.normalize("NFKC", text[:COMMENT_MAX_CHARS]).casefold())


def terms(text: str) -> list[str]:
    """A comment's words and its pairs of neighbouring words."""
    found = words(text)
    return found + [f"{first} {second}" for first, second in zip(found, found[1:])]


def letters(text: str) -> str:
    """A comment's words alone, for the character n-grams: no digits, emoji or punctuation."""
    return " ".join(words(text))


def weighted(texts: Sequence[str], analyzer: str | Callable[[str], list[str]], strict: bool, max_df: float) -> tuple[csr_matrix, np.ndarray]:
    """TF-IDF rows and their terms. Strict: the corpus's stop words (in more than `max_df`
    of the comments) and the terms of one comment only are left out, unless that leaves no
    term at all."""
    for min_df, most in ((2, max_df), (1, 1.0)) if strict else ((1, 1.0),):
        options = {"ngram_range": (3, 5)} if analyzer == "char_wb" else {}
        vectoriser = TfidfVectorizer(analyzer=analyzer, min_df=min_df, max_df=most, sublinear_tf=True, lowercase=False, **options)
        try:
            matrix = vectoriser.fit_transform(texts)
        except ValueError:  # no term left
            continue
        if matrix.nnz:
            return matrix, vectoriser.get_feature_names_out()
    return csr_matrix((len(texts), 0)), np.array([], dtype=str)


def vectorised(texts: Sequence[str], settings: ThemeSettings) -> tuple[csr_matrix, np.ndarray, csr_matrix]:
    """The comments' words and pairs (for key words), and what they are grouped on: those
    beside character n-grams of their words, which tell that "доставка" and "доставку" or
    "price" and "prices" are one word."""
    strict = len(texts) >= STOP_WORD_MIN_COMMENTS
    word_rows, vocabulary = weighted(texts, terms, strict, settings.max_df)
    char_rows, _ = weighted([letters(text) for text in texts], "char_wb", strict, settings.max_df)
    return word_rows, vocabulary, normalize(hstack([word_rows, char_rows]).tocsr())


def chosen_labels(matrix: csr_matrix, settings: ThemeSettings) -> tuple[np.ndarray, str]:
    """Each comment's theme, and the criterion that chose how many themes there are."""
    distinct = len({row.indices.tobytes() + row.data.tobytes() for row in matrix})
    highest = min(settings.max_themes, distinct - 1)
    if highest < settings.min_themes:
        return np.zeros(matrix.shape[0], dtype=int), f"one theme: {distinct} distinct comment(s) cannot be told apart"
    best = best_grouping(matrix, range(settings.min_themes, highest + 1), "cosine", SILHOUETTE_SAMPLE)
    if best is None or best[0] <= 0:
        return np.zeros(matrix.shape[0], dtype=int), (
            f"one theme: no split into {settings.min_themes}-{settings.max_themes} themes has a positive silhouette"
        )
    score, count, labels = best
    return labels, f"{count} themes: the best silhouette (cosine, {score:.2f}) of {settings.min_themes}-{highest} themes"


def key_words(vocabulary: np.ndarray, present: csr_matrix, members: np.ndarray, limit: int) -> tuple[str, ...]:
    """The terms typical of the theme and particular to it: the share of its comments that
    use a term times the share of the term's comments that are in the theme. So a word every
    theme uses ("the", "очень") ranks low however often it comes. A pair of words comes
    before its words when it ranks as high as each of them ("giao hàng"), and stands for them."""
    used = np.asarray(present.sum(axis=0)).ravel()
    inside = np.asarray(present[members].sum(axis=0)).ravel()
    score = np.divide(inside * inside, len(members) * used, out=np.zeros(len(vocabulary)), where=used > 0)
    index_of = {str(term): index for index, term in enumerate(vocabulary)}
    # Highest first; on a tie a pair comes first, then alphabetical, so the order is fixed.
    ranked = sorted((index for index in range(len(vocabulary)) if score[index] > 0),
                    key=lambda index: (-score[index], " " not in vocabulary[index], vocabulary[index]))
    shown: list[str] = []
    for index in ranked:
        if score[index] < KEY_WORD_MIN_RATIO * score[ranked[0]]:
            break
        term = str(vocabulary[index])
        parts = term.split(" ")
        held = {word for picked in shown for word in picked.split(" ")}
        if len(parts) > 1:
            if any(score[index_of[word]] > score[index] for word in parts if word in index_of) or set(parts) <= held:
                continue
        elif term in held:
            continue
        shown.append(term)
        if len(shown) == limit:
            break
    return tuple(shown)


def halves(times: Sequence[datetime], period: tuple[datetime, datetime]) -> tuple[int, int]:
    """How many of the moments fall in the first and in the second half of the period."""
    start, end = period
    middle = start + (end - start) / 2
    later = sum(1 for moment in times if moment >= middle)
    return len(times) - later, later


def examples(matrix: csr_matrix, members: np.ndarray, texts: Sequence[str], limit: int) -> tuple[str, ...]:
    """The theme's most typical comments, each wording once: the closest to its centre."""
    centre = np.asarray(matrix[members].mean(axis=0)).ravel()
    closeness = matrix[members] @ centre
    picked: dict[str, str] = {}
    for index in np.argsort(-closeness, kind="stable"):
        text = texts[members[index]]
        # Comments that differ only in case or punctuation are one example.
        picked.setdefault(letters(text), text)
        if len(picked) == limit:
            break
    return tuple(picked.values())


def find_themes(comments: Sequence[Comment], period: tuple[datetime, datetime], settings: ThemeSettings = ThemeSettings()) -> Themes:
    """The comments' themes, largest first. Comments no theme can hold are counted, not grouped."""
    placed = [position for position, comment in enumerate(comments) if words(comment.text)]
    with_words = [comments[position] for position in placed]
    wordless = len(comments) - len(with_words)
    if not with_words:
        return Themes((), 0, 0, wordless, "no comment with words", Counter())
    word_rows, vocabulary, matrix = vectorised([comment.text[:COMMENT_MAX_CHARS] for comment in with_words], settings)
    kept = np.flatnonzero(matrix.getnnz(axis=1) > 0)
    matrix, present = matrix[kept], (word_rows[kept] > 0).astype(np.float64)
    usable = [with_words[index] for index in kept]
    texts = [comment.text[:COMMENT_MAX_CHARS] for comment in usable]
    bands = [band(comment.survey, comment.score) for comment in usable]
    totals = Counter(bands)
    labels, criterion = chosen_labels(matrix, settings)
    themes = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        first, second = halves([usable[index].at for index in members], period)
        themes.append(Theme(
            key_words=key_words(vocabulary, present, members, settings.key_words),
            comments=len(members),
            bands=Counter(bands[index] for index in members),
            first_half=first,
            second_half=second,
            examples=examples(matrix, members, texts, settings.examples),
            positions=tuple(placed[kept[index]] for index in members),
        ))
    themes.sort(key=lambda theme: (-theme.comments, theme.key_words))
    return Themes(tuple(themes), len(usable), len(with_words) - len(usable), wordless, criterion, totals)
