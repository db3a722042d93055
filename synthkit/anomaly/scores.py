"""Anomaly scores read off a fitted generator: one sound rule per family, higher = more normal.

A *scoring rule* turns a fitted :class:`synthkit.Generator` into a per-row score (and, where
the family allows, a per-feature map of contributions). Every rule here is a deterministic
function of the row alone: a row gets the same score whatever batch it is scored in, which
is what scikit-learn's outlier API (and a reproducible threshold) needs. Stochastic bounds
are therefore evaluated with *common random numbers*: one fixed set of noise draws is shared
by every row.

==================  ===========================================================================
rule                what it computes
==================  ===========================================================================
``likelihood``      ``log p(x)`` as the family has it: exact (flow, autoregressive), a lower
                    bound (VAE: importance-weighted bound; diffusion: variational bound) or
                    unnormalized (EBM: ``-E(x)``, RBM: ``-F(x)``).
``reconstruction``  ``-1/2 sum_j ((x_j - x_hat_j) / sigma_j)^2``: VAE decoder mean at the
                    posterior mean (``decode(encode(x))``); RBM mean-field reconstruction;
                    GAN: residual after a search of the latent space (AnoGAN). Per-feature map.
``denoising``       diffusion: minus the squared error of the denoiser's estimate of ``x_0``
                    from ``x_t`` at a few fixed noise levels (Graham et al. 2023). Per-feature map.
``critic``          GAN: the critic's (discriminator's) score of the row. Not the default: a
                    Wasserstein critic is trained only near the data and extrapolates
                    (about linearly) away from it, so a far outlier can score *high*.
==================  ===========================================================================

A generator that has none of these (no likelihood, no critic, nothing to reconstruct with)
is refused with an error that says what to use instead. The numerics of each family are in
:mod:`synthkit.anomaly.families`.

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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synthkit.anomaly.families import (
    backbone_log_likelihood,
    diffusion_feature_scores,
    diffusion_log_likelihood,
    gan_critic,
    gan_feature_scores,
    made_feature_scores,
    rbm_feature_scores,
    summed,
    vae_feature_scores,
    vae_log_likelihood,
    float64,
)


@dataclass(frozen=True)
class ScoreRule:
    """A named way to score rows with a fitted generator.

    Attributes:
        name: the value of ``GenerativeDetector(score_rule=...)``.
        description: one line for error messages and docs.
        score: ``f(gen, X) -> ndarray (n,)``, higher = more normal.
        feature_scores: ``f(gen, X) -> ndarray (n, d)`` per-feature contributions (higher =
            more normal) or ``None`` when the family gives no such decomposition.
    """

    name: str
    description: str
    score: Callable[..., np.ndarray]
    feature_scores: Callable[..., np.ndarray] | None = None


# ---------------------------------------------------------------------- helpers
def family(gen) -> str | None:
    """Registered backbone name of ``gen``'s class (or of the registered class it extends).

    Matched on the registry's import paths, so no backbone module is imported here.
    """
    from synthkit.registry import BACKBONES

    for cls in type(gen).__mro__:
        for name in BACKBONES:
            module, _, attr = BACKBONES._entries[name].target.partition(":")
            if cls.__name__ == attr and (cls.__module__ == module or cls.__module__.startswith(module + ".")):
                return name
    return None


def _finite(scores: np.ndarray) -> np.ndarray:
    """NaN means the model could not score the row at all: treat it as maximally abnormal."""
    return np.where(np.isnan(scores), -np.inf, scores)


# ---------------------------------------------------------------------- tables
LIKELIHOOD = "likelihood"
RECONSTRUCTION = "reconstruction"
DENOISING = "denoising"
CRITIC = "critic"
AUTO = "auto"
RULE_NAMES = (AUTO, LIKELIHOOD, RECONSTRUCTION, DENOISING, CRITIC)

_GENERIC_LIKELIHOOD = ScoreRule(LIKELIHOOD, "the backbone's score_samples (log-likelihood)", backbone_log_likelihood)

#: family -> {rule name -> ScoreRule}; the first entry is the family's default ("auto").
FAMILY_RULES: dict[str, dict[str, ScoreRule]] = {
    "flow": {LIKELIHOOD: ScoreRule(LIKELIHOOD, "exact log-likelihood (change of variables)", backbone_log_likelihood)},
    "autoregressive": {
        LIKELIHOOD: ScoreRule(
            LIKELIHOOD, "exact log-likelihood; per-feature map = log p(x_j | x_<j)",
            backbone_log_likelihood, made_feature_scores,
        ),
    },
    "sequence": {LIKELIHOOD: ScoreRule(LIKELIHOOD, "exact log-likelihood of the token sequence", backbone_log_likelihood)},
    "vae": {
        LIKELIHOOD: ScoreRule(
            LIKELIHOOD, "importance-weighted lower bound on log p(x) (k=16, common random numbers); "
            "per-feature map = reconstruction error", vae_log_likelihood, vae_feature_scores,
        ),
        RECONSTRUCTION: ScoreRule(
            RECONSTRUCTION, "minus the squared reconstruction error decode(encode(x)), scaled by the decoder's sigma",
            summed(vae_feature_scores), vae_feature_scores,
        ),
    },
    "diffusion": {
        DENOISING: ScoreRule(
            DENOISING, "minus the SNR-weighted denoising error at noise levels 2-40% of the horizon (common random numbers)",
            summed(diffusion_feature_scores), diffusion_feature_scores,
        ),
        LIKELIHOOD: ScoreRule(
            LIKELIHOOD, "variational lower bound on log p(x) (common random numbers); per-feature map = denoising error",
            diffusion_log_likelihood, diffusion_feature_scores,
        ),
    },
    "ebm": {LIKELIHOOD: ScoreRule(LIKELIHOOD, "minus the energy (unnormalized log-density)", backbone_log_likelihood)},
    "rbm": {
        LIKELIHOOD: ScoreRule(LIKELIHOOD, "log p(x): exact with at most 16 hidden units, else minus the free energy "
                              "(unnormalized); per-feature map = "
                              "mean-field reconstruction error", backbone_log_likelihood, rbm_feature_scores),
        RECONSTRUCTION: ScoreRule(RECONSTRUCTION, "minus the mean-field reconstruction error",
                                  summed(rbm_feature_scores), rbm_feature_scores),
    },
    "gan": {
        RECONSTRUCTION: ScoreRule(RECONSTRUCTION, "minus the residual |x - G(z*)|^2 after a latent search (AnoGAN)",
                                  summed(gan_feature_scores), gan_feature_scores),
        CRITIC: ScoreRule(CRITIC, "the critic's score D(x) (higher = judged more real; unreliable far from "
                          "the data, where a Wasserstein critic extrapolates)", gan_critic),
    },
}

#: what each family needs for a rule, checked before use: rule -> required attributes
_REQUIRES: dict[tuple[str, str], tuple[str, ...]] = {
    ("vae", LIKELIHOOD): ("_posterior", "_log_px_given_z"),
    ("vae", RECONSTRUCTION): ("_posterior", "_split_out"),
    ("autoregressive", LIKELIHOOD): (),
    ("diffusion", LIKELIHOOD): ("predict_start", "q_sample", "score_timesteps", "_noise_schedule", "_clip_bounds"),
    ("diffusion", DENOISING): ("predict_start", "q_sample", "_clip_bounds", "_noise_schedule"),
    ("rbm", LIKELIHOOD): ("_layer",),
    ("rbm", RECONSTRUCTION): ("_layer",),
    ("gan", CRITIC): ("critic_score",),
    ("gan", RECONSTRUCTION): ("_generate",),
}


def available_rules(gen) -> dict[str, ScoreRule]:
    """Scoring rules that are sound for ``gen`` (fitted or not), the default first."""
    fam = family(gen)
    rules = {}
    for name, rule in FAMILY_RULES.get(fam, {}).items():
        needs = _REQUIRES.get((fam, name), ())
        if all(hasattr(type(gen), attr) for attr in needs):
            if name == LIKELIHOOD and getattr(gen, "likelihood", None) is None:
                continue
            if name == LIKELIHOOD and fam == "autoregressive" and not hasattr(gen, "conditional_log_probs"):
                rule = ScoreRule(name, rule.description, rule.score)
            rules[name] = rule
    if not rules and fam is None:  # a user's own Generator: go by its capability flags
        if getattr(gen, "likelihood", None) is not None:
            rules[LIKELIHOOD] = _GENERIC_LIKELIHOOD
        if hasattr(gen, "critic_score"):
            rules[CRITIC] = ScoreRule(CRITIC, "the backbone's critic_score", lambda gen, X: gen.critic_score(X))
    return rules


def resolve_rule(gen, score: str) -> ScoreRule:
    """The :class:`ScoreRule` named ``score`` (``"auto"``: the family's default) for ``gen``.

    Raises:
        ValueError: the family has no sound score of that kind (the message lists those it has).
    """
    rules = available_rules(gen)
    name = type(gen).__name__
    if not rules:
        raise ValueError(
            f"{name} has no sound anomaly score: it exposes no likelihood (likelihood=None), "
            "no critic_score and no reconstruction. Use a backbone with a likelihood "
            "('flow', 'autoregressive', 'vae', 'diffusion', 'ebm', 'rbm') or a GAN with a critic."
        )
    if score == AUTO:
        return next(iter(rules.values()))
    if score not in rules:
        why = {
            LIKELIHOOD: f"{name} has no likelihood (likelihood={getattr(gen, 'likelihood', None)!r})",
            RECONSTRUCTION: f"{name} cannot reconstruct a row (no encoder / mean-field reconstruction)",
            DENOISING: f"{name} is not a diffusion model",
            CRITIC: f"{name} has no critic (only GANs do)",
        }.get(score, f"{score!r} is not a scoring rule")
        raise ValueError(f"score_rule={score!r} is not available: {why}. Choose one of {['auto', *rules]}.")
    return rules[score]


def score_rows(gen, X, rule: ScoreRule) -> np.ndarray:
    """Per-row score of ``X`` under ``rule`` (higher = more normal); NaN becomes ``-inf``."""
    with float64(gen):
        return _finite(np.asarray(rule.score(gen, X), dtype=np.float64))


def feature_score_rows(gen, X, rule: ScoreRule) -> np.ndarray:
    """Per-feature contributions (n, d) under ``rule``; raises if the family has none."""
    if rule.feature_scores is None:
        others = [r.name for r in available_rules(gen).values() if r.feature_scores is not None]
        hint = f" Rules with a per-feature map for this backbone: {others}." if others else ""
        raise NotImplementedError(
            f"score_rule={rule.name!r} of {type(gen).__name__} does not decompose over features "
            f"(it is the {rule.description}).{hint}"
        )
    with float64(gen):
        return np.asarray(rule.feature_scores(gen, X), dtype=np.float64)
