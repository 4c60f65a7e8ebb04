"""How well scores find fraud: average precision (AUPRC) and precision/recall at a cut.

Figures are rounded to 4 decimals: they go into the model file, where a float's 16
digits could pass for a card number to `paygate pci-scan`."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel


class AtCut(BaseModel):
    """What flagging some attempts (`what`: "score >= 40", "rules: OTP or block") caught."""

    what: str
    flagged: int
    precision: float
    recall: float


def average_precision(labels: Sequence[bool], scores: Sequence[float]) -> float:
    """The area under the precision-recall curve as a step sum (scikit-learn's
    `average_precision_score`): tied scores are one step."""
    positives = sum(labels)
    if positives == 0:
        return 0.0
    pairs = sorted(zip(scores, labels, strict=True), key=lambda p: -p[0])
    area = hits = seen = 0.0
    recall_before = 0.0
    i = 0
    while i < len(pairs):
        score = pairs[i][0]
        while i < len(pairs) and pairs[i][0] == score:
            hits += pairs[i][1]
            seen += 1
            i += 1
        recall = hits / positives
        area += (recall - recall_before) * (hits / seen)
        recall_before = recall
    return round(area, 4)


def at_cut(labels: Sequence[bool], flags: Sequence[bool], what: str) -> AtCut:
    """Precision and recall of flagging the attempts whose flag is set."""
    flagged = [label for label, flag in zip(labels, flags, strict=True) if flag]
    hits, positives = sum(flagged), sum(labels)
    return AtCut(
        what=what,
        flagged=len(flagged),
        precision=round(hits / len(flagged), 4) if flagged else 0.0,
        recall=round(hits / positives, 4) if positives else 0.0,
    )
