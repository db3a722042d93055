"""Membership-inference attacks on a synthetic table.

The attacker holds the synthetic table and a real row and guesses whether the row was in
the generator's training data. Members are (a subsample of) the training rows,
non-members equally many real holdout rows; each row gets an attack score and the ROC AUC
of members against non-members is reported. **0.5 is ideal** (the attacker does no better
than a coin); 1.0 means membership is fully exposed. Beside the AUC, the true-positive
rate at a 1 % false-positive rate says whether *some* records are exposed with confidence.

Two attacks, in the standardized one-hot embedding of
:class:`synthkit.metrics.columns.TableEncoder`:

``"distance"``
    score = minus the distance to the closest synthetic row (the black-box attack of
    GAN-Leaks): generators that memorize put synthetic rows on top of members.
``"density"``
    score = log of the ratio of the synthetic density to the real density at the row,
    both estimated with k-nearest-neighbour radii (DOMIAS); the real density comes from a
    reference half of the holdout that is never scored. It finds local overfitting that
    the plain distance misses in dense regions.

References:
    Chen et al., "GAN-Leaks: A Taxonomy of Membership Inference Attacks against
    Generative Models", CCS 2020.
    van Breugel et al., "Membership Inference Attacks against Synthetic Data through
    Overfitting Detection" (DOMIAS), AISTATS 2023.
    Carlini et al., "Membership Inference Attacks From First Principles", IEEE S&P 2022
    (report the true-positive rate at a low false-positive rate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.neighbors import NearestNeighbors

from synthkit.metrics.columns import TableEncoder, check_pair, infer_kinds

#: members and non-members used per attack (larger tables are subsampled)
MAX_ROWS = 10_000
ATTACKS = ("distance", "density")


def membership_inference(
    train: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame, *, attacks=ATTACKS,
    k: int = 5, kinds=None, metadata=None, max_rows: int = MAX_ROWS, random_state=0,
) -> dict:
    """Run membership-inference attacks; members = ``train`` rows, non-members = ``holdout`` rows.

    Args:
        train: the real rows the generator was fitted on.
        synthetic: generated rows (the attacker's knowledge).
        holdout: real rows the generator never saw.
        attacks: any of ``"distance"`` and ``"density"`` (see the module docstring).
        k: neighbours of the density estimates.
        max_rows: members and non-members each at most this many rows (always equally many).

    Returns:
        ``{"auc": highest AUC over the attacks, "tpr_at_fpr_0.01": of that attack, "attacks":
        {name: {"auc", "tpr_at_fpr_0.01", "n_members"}}}``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> draw = lambda n: pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
        >>> train, holdout = draw(300), draw(600)
        >>> round(membership_inference(train, draw(300), holdout)["auc"], 1)
        0.5
        >>> membership_inference(train, train, holdout)["auc"] > 0.9
        True
    """
    check_pair(train, synthetic)
    check_pair(train, holdout, what="holdout")
    unknown = set(attacks) - set(ATTACKS)
    if unknown or not attacks:
        raise ValueError(f"attacks must be a non-empty subset of {ATTACKS}, got {list(attacks)}.")
    kinds = kinds or infer_kinds(train, metadata)
    rng = np.random.default_rng(random_state)
    enc = TableEncoder(kinds).fit(train, synthetic, holdout)
    T, S, H = enc.embed(train), enc.embed(synthetic), enc.embed(holdout)
    S = S[_pick(len(S), max_rows, rng)]
    results = {}
    if "distance" in attacks:
        m = min(len(T), len(H), max_rows)
        members, non_members = T[_pick(len(T), m, rng)], H[_pick(len(H), m, rng)]
        nn = NearestNeighbors(n_neighbors=1).fit(S)
        scores = -np.r_[nn.kneighbors(members)[0][:, 0], nn.kneighbors(non_members)[0][:, 0]]
        results["distance"] = _attack_result(scores, m)
    if "density" in attacks:
        order = rng.permutation(len(H))
        reference, scored = H[order[: len(H) // 2]], H[order[len(H) // 2 :]]
        m = min(len(T), len(scored), max_rows)
        kk = int(min(k, len(S), len(reference)))
        if m >= 2 and kk >= 1:
            members, non_members = T[_pick(len(T), m, rng)], scored[_pick(len(scored), m, rng)]
            queries = np.vstack([members, non_members])
            r_synth = NearestNeighbors(n_neighbors=kk).fit(S).kneighbors(queries)[0][:, -1]
            r_ref = NearestNeighbors(n_neighbors=kk).fit(reference).kneighbors(queries)[0][:, -1]
            tiny = 1e-12
            scores = np.log(r_ref + tiny) - np.log(r_synth + tiny)  # log density ratio / dimension
            results["density"] = _attack_result(scores, m)
    if not results:
        raise ValueError("the holdout is too small for the requested attacks.")
    best = max(results, key=lambda name: results[name]["auc"])
    return {"auc": results[best]["auc"], "tpr_at_fpr_0.01": results[best]["tpr_at_fpr_0.01"],
            "strongest_attack": best, "attacks": results}


def _attack_result(scores: np.ndarray, m: int) -> dict:
    labels = np.r_[np.ones(m), np.zeros(len(scores) - m)]
    fpr, tpr, _ = roc_curve(labels, scores)
    return {
        "auc": float(roc_auc_score(labels, scores)),
        "tpr_at_fpr_0.01": float(np.interp(0.01, fpr, tpr)),
        "n_members": int(m),
    }


def _pick(n: int, m: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(n) if m >= n else np.sort(rng.choice(n, m, replace=False))
