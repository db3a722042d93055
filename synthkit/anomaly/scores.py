"""Anomaly scores read off a fitted generator through its public ``score_rules()`` hook.

Each backbone declares its own scoring rules (:class:`synthkit.scoring.ScoreRule`), built on
its public tensor-level methods; the detector only picks one by name and applies it to raw
rows. The rules of the bundled backbones:

==============  ========================================  ======================================
backbone        ``"auto"`` (the first rule)                other rules
==============  ========================================  ======================================
flow            ``likelihood``: exact log-likelihood
autoregressive  ``likelihood``: exact; map ``log p(x_j | x_<j)``
vae             ``likelihood``: IWAE bound under the       ``reconstruction``
                model's prior; map = reconstruction
diffusion       ``denoising``: SNR-weighted denoising      ``likelihood``: ``DDPM.elbo``
                error (Graham et al. 2023)
ebm             ``likelihood``: minus the energy
rbm             ``likelihood``: exact (few hidden units)   ``reconstruction``
                or minus the free energy
gan             ``reconstruction``: latent-search          ``critic`` (unreliable far out)
                residual (AnoGAN)
==============  ========================================  ======================================

Every rule is a deterministic function of the row alone (bounds use common random numbers),
so a row scores the same whatever batch it is scored in, as scikit-learn's outlier API and a
reproducible threshold need. A generator of your own gets the base class's ``"likelihood"``
rule when it sets ``likelihood``, and can add rules by overriding ``score_rules``.

References:
    Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016.
    An & Cho, "Variational Autoencoder based Anomaly Detection using Reconstruction
    Probability", SNU Data Mining Center, 2015.
    Schlegl et al., "Unsupervised Anomaly Detection with Generative Adversarial Networks to
    Guide Marker Discovery" (AnoGAN), IPMI 2017.
    Graham et al., "Denoising diffusion models for out-of-distribution detection", CVPR-W 2023.
    Nalisnick et al., "Do Deep Generative Models Know What They Don't Know?", ICLR 2019.
"""

from __future__ import annotations

import numpy as np

from synthkit.scoring import ScoreRule

AUTO = "auto"


def available_rules(gen) -> dict[str, ScoreRule]:
    """The scoring rules ``gen`` declares (fitted or not), the default first."""
    rules = gen.score_rules() if hasattr(gen, "score_rules") else {}
    return dict(rules)


def resolve_rule(gen, score: str) -> ScoreRule:
    """The :class:`ScoreRule` named ``score`` (``"auto"``: the first one) of ``gen``.

    Raises:
        ValueError: ``gen`` declares no rule, or none of that name (the message lists those it has).
    """
    rules = available_rules(gen)
    name = type(gen).__name__
    if not rules:
        raise ValueError(
            f"{name} has no sound anomaly score: its score_rules() is empty (no likelihood, no "
            "reconstruction, no critic). Use a backbone with a likelihood ('flow', "
            "'autoregressive', 'vae', 'diffusion', 'ebm', 'rbm') or a GAN, or give "
            f"{name} a score_rules() method (see synthkit.scoring)."
        )
    if score == AUTO:
        return next(iter(rules.values()))
    if score not in rules:
        raise ValueError(
            f"score_rule={score!r} is not available: {name} declares the rules {list(rules)}. "
            f"Choose one of {[AUTO, *rules]}."
        )
    return rules[score]


def score_rows(X, rule: ScoreRule) -> np.ndarray:
    """Per-row score of raw rows ``X`` under ``rule`` (higher = more normal); NaN becomes ``-inf``
    (the model could not score the row at all: treat it as maximally abnormal)."""
    scores = np.asarray(rule.score(X), dtype=np.float64)
    return np.where(np.isnan(scores), -np.inf, scores)


def feature_score_rows(gen, X, rule: ScoreRule) -> np.ndarray:
    """Per-feature contributions (n, d) under ``rule``; raises if the rule has none."""
    if rule.feature_scores is None:
        others = [r.name for r in available_rules(gen).values() if r.feature_scores is not None]
        hint = f" Rules with a per-feature map for this backbone: {others}." if others else ""
        raise NotImplementedError(
            f"score_rule={rule.name!r} of {type(gen).__name__} does not decompose over features "
            f"(it is the {rule.description}).{hint}"
        )
    return np.asarray(rule.feature_scores(X), dtype=np.float64)
