"""How each backbone family is scored: the numerics behind :mod:`synthkit.anomaly.scores`.

Every function takes a fitted generator and rows ``X`` (raw units) and returns per-row
scores (n,) or per-feature contributions (n, d), higher = more normal. They run the
networks in float64 on standardized rows (see :func:`float64`), in chunks, with common
random numbers wherever the family's score is an expectation over noise.
"""

from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch

from synthkit.training.runtime import seeded

LOG_2PI = math.log(2 * math.pi)
#: rows per chunk when a rule evaluates the networks (bounds memory for k draws x rows)
CHUNK = 1024
#: seed of the common random numbers shared by all rows
CRN_SEED = 0


# ---------------------------------------------------------------------- numerics
def _chunks(gen, X):
    """Yield standardized float64 row chunks on the model's device."""
    Xt = gen._to_model_space(X)
    device = gen._device()
    for lo in range(0, len(Xt), CHUNK):
        yield Xt[lo : lo + CHUNK].to(device, torch.float64)


def _map_rows(gen, X, fn) -> np.ndarray:
    with torch.no_grad(), seeded(CRN_SEED, gen._device()):
        parts = [fn(x).double().cpu() for x in _chunks(gen, X)]
    return torch.cat(parts).numpy()


@contextmanager
def float64(gen):
    """Run the networks in float64 for the duration (then restore their dtype exactly).

    In float32 a row's score changes in the 7th digit with the number of rows in the
    batch (matrix-multiply kernels sum in a different order); in float64 it does not, so
    a row scores the same alone or in any batch, as scikit-learn's outlier API expects.
    """
    params = list(gen.modules_.parameters())
    dtype = params[0].dtype if params else torch.float32
    gen.modules_.double()
    try:
        yield gen
    finally:
        gen.modules_.to(dtype)


def _crn(shape, like: torch.Tensor) -> torch.Tensor:
    """Standard normal draws from a fixed seed, identical for every call (common random numbers)."""
    g = torch.Generator().manual_seed(CRN_SEED)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(like.device, like.dtype)


def _jacobian(gen) -> float:
    """Log-determinant of the standardization (added to model-space log-densities)."""
    return -float(np.log(gen.scale_).sum())


# ---------------------------------------------------------------------- likelihood
def backbone_log_likelihood(gen, X) -> np.ndarray:
    """The backbone's own per-row log-likelihood (``_log_prob``) plus the standardization's Jacobian."""
    return _map_rows(gen, X, lambda x: gen._log_prob(x, None)) + _jacobian(gen)


def vae_log_likelihood(gen, X, k: int = 16) -> np.ndarray:
    """Importance-weighted bound with ``k`` posterior draws shared by every row (CRN)."""
    k = max(k, int(getattr(gen, "n_importance_samples", 1)))

    def fn(x):
        mu, log_var = gen._posterior(x, None)
        std = (0.5 * log_var).exp()
        eps = _crn((k, 1, mu.shape[1]), x)
        z = mu + eps * std  # (k, n, zdim)
        log_q = (-0.5 * eps**2 - std.log() - 0.5 * LOG_2PI).sum(-1)
        log_prior = (-0.5 * z**2 - 0.5 * LOG_2PI).sum(-1)
        log_px = gen._log_px_given_z(x.repeat(k, 1), z.reshape(k * len(x), -1), None).reshape(k, len(x))
        return torch.logsumexp(log_px + log_prior - log_q, 0) - math.log(k)

    return _map_rows(gen, X, fn) + _jacobian(gen)


def made_feature_scores(gen, X) -> np.ndarray:
    """Per-column conditionals ``log p(x_j | x_<j)`` (in raw units): they sum to ``log p(x)``."""
    out = _map_rows(gen, X, lambda x: gen.conditional_log_probs(x, None))
    return out - np.log(gen.scale_)[None, :]


def diffusion_log_likelihood(gen, X) -> np.ndarray:
    """Variational bound of the DDPM, with the noise and time steps shared by every row."""
    n_steps = int(getattr(gen, "n_score_timesteps", 16))
    sched = gen._noise_schedule
    d = gen.n_features_in_

    def fn(x0):
        n = len(x0)
        noise = _crn((n_steps + 1, 1, d), x0)
        t0 = torch.zeros(n, dtype=torch.long, device=x0.device)
        x0_hat, _ = gen.predict_start(gen.q_sample(x0, t0, noise[0].expand(n, d)), t0, None, clip=True)
        beta1 = sched.betas[0].double()
        nll = 0.5 * ((x0 - x0_hat).double() ** 2).sum(1) / beta1 + 0.5 * d * (LOG_2PI + beta1.log())
        nll = nll + sched.prior_kl(x0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(CRN_SEED)
            steps, weights = gen.score_timesteps(n_steps, device=x0.device)
        for i, (t_k, w_k) in enumerate(zip(steps, weights)):
            t = t_k.repeat(n)
            x0_hat, _ = gen.predict_start(gen.q_sample(x0, t, noise[i + 1].expand(n, d)), t, None, clip=True)
            err = ((x0 - x0_hat).double() ** 2).sum(1)
            nll = nll + 0.5 * sched.snr_decrease(t) * err * w_k
        return -nll

    return _map_rows(gen, X, fn) + _jacobian(gen)


# ---------------------------------------------------------------------- reconstruction
def vae_decoder_mean(gen, z):
    """Decoder means (model space) and per-feature scales ``sigma`` of the continuous columns."""
    parts = gen._split_out(gen.modules_["decoder"](z))
    if len(parts) == 3:  # (means, log scales, category logits)
        cont, log_s, cats = parts
    else:  # (means, category logits) with a global learned scale
        (cont, cats), log_s = parts, gen.modules_["log_scale"]().expand_as(parts[0])
    return cont, log_s.exp(), cats


def vae_feature_scores(gen, X) -> np.ndarray:
    """``-1/2 ((x - x_hat) / sigma)^2`` per feature, in standardized units.

    The row is encoded to its posterior mean and decoded to the decoder's mean ``x_hat``;
    ``sigma`` is the decoder's scale for Gaussian columns (a feature the model reconstructs
    loosely counts less); binary and category columns use 1 (a wrong category costs 1/2).
    """
    bernoulli = getattr(gen, "decoder_likelihood", "gaussian") == "bernoulli"

    def fn(x):
        mu, _ = gen._posterior(x, None)
        cont, sigma, cat_logits = vae_decoder_mean(gen, mu)
        x_hat, scale = torch.empty_like(x), torch.ones_like(x)
        x_hat[:, gen._conts] = torch.sigmoid(cont) if bernoulli else cont
        if not bernoulli:
            scale[:, gen._conts] = sigma.to(x.dtype)
        for j, logits in zip(gen._cats, cat_logits):
            x_hat[:, j] = logits.argmax(1).to(x.dtype)
        return -0.5 * ((x - x_hat) / scale) ** 2

    return _map_rows(gen, X, fn)


def rbm_feature_scores(gen, X) -> np.ndarray:
    """Mean-field reconstruction ``E[v | p(h | v)]`` of the first RBM, scored per visible unit:
    ``-1/2 ((v - v_hat) / sigma)^2`` for Gaussian units, ``log p(v | h)`` for Bernoulli ones."""
    rbm = gen._layer(0)

    def fn(v):
        p_h, _ = rbm.sample_h_given_v(v, None)
        v_hat, _ = rbm.sample_v_given_h(p_h, None)
        if rbm.gaussian:
            return -0.5 * (v - v_hat) ** 2 / rbm.variance()
        p = v_hat.clamp(1e-7, 1 - 1e-7)
        return v * p.log() + (1 - v) * (1 - p).log()

    return _map_rows(gen, X, fn)


#: AnoGAN latent search: candidate starts, then Adam steps on z
LATENT_STARTS = 16
LATENT_STEPS = 100
LATENT_LR = 0.05


def gan_feature_scores(gen, X) -> np.ndarray:
    """AnoGAN's residual: search the latent space for ``z*`` with ``G(z*)`` closest to the row,
    and return ``-1/2 (x - G(z*))^2`` per feature (standardized units).

    The search starts from the best of ``LATENT_STARTS`` shared candidate codes and takes
    ``LATENT_STEPS`` Adam steps on ``z`` alone (the networks are not changed). Adam acts on
    each coordinate separately, so a row's result does not depend on its batch.
    """
    G = gen.modules_["generator"]
    k = int(gen.latent_dim)

    def fn(x):
        starts = _crn((LATENT_STARTS, k), x)
        fits = torch.stack([((G(z.expand(len(x), k), None) - x) ** 2).sum(1) for z in starts])
        z = starts[fits.argmin(0)].clone()
        with torch.enable_grad():
            z.requires_grad_(True)
            opt = torch.optim.Adam([z], lr=LATENT_LR)
            for _ in range(LATENT_STEPS):
                loss = ((G(z, None) - x) ** 2).sum()
                (grad,) = torch.autograd.grad(loss, z)  # never touches the networks' .grad
                z.grad = grad
                opt.step()
        return -0.5 * (x - G(z.detach(), None)) ** 2

    return _map_rows(gen, X, fn)


# ---------------------------------------------------------------------- diffusion denoising
#: fractions of the diffusion horizon at which the denoising error is measured
DENOISING_LEVELS = (0.02, 0.05, 0.1, 0.2, 0.4)
DENOISING_DRAWS = 4


def diffusion_feature_scores(gen, X) -> np.ndarray:
    """Minus the squared error of the denoiser's ``x_0`` estimate from ``x_t``, per feature,
    averaged over a few noise levels and shared noise draws.

    Each level's error is multiplied by its signal-to-noise ratio ``abar_t / (1 - abar_t)``,
    i.e. measured in units of the noise the level adds, so that the noisiest level (where
    any row is reconstructed badly) does not swamp the informative low-noise ones.
    """
    T = int(gen.n_timesteps)
    levels = sorted({min(T - 1, max(1, int(round(f * T)))) for f in DENOISING_LEVELS})
    d = gen.n_features_in_
    sched = gen._noise_schedule

    def fn(x0):
        n = len(x0)
        noise = _crn((len(levels) * DENOISING_DRAWS, 1, d), x0)
        total = torch.zeros(n, d, dtype=torch.float64, device=x0.device)
        i = 0
        for level in levels:
            t = torch.full((n,), level, dtype=torch.long, device=x0.device)
            abar = sched.abar(t[:1]).double()
            for _ in range(DENOISING_DRAWS):
                x0_hat, _ = gen.predict_start(gen.q_sample(x0, t, noise[i].expand(n, d)), t, None, clip=True)
                total += (x0 - x0_hat).double() ** 2 * (abar / (1 - abar))
                i += 1
        return -0.5 * total / i

    return _map_rows(gen, X, fn)


# ---------------------------------------------------------------------- GAN critic
def gan_critic(gen, X) -> np.ndarray:
    """The critic's output ``D(x)`` (unconditional), evaluated in float64."""
    critic = gen.modules_["critic"]
    return _map_rows(gen, X, lambda x: critic(x, None).reshape(len(x)))


def summed(feature_fn):
    """A row score that is the sum of a per-feature map."""
    return lambda gen, X: feature_fn(gen, X).sum(1)
