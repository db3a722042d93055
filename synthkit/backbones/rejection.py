"""Discriminator rejection sampling (Azadi et al. 2019) for the GAN with a logistic critic.

The optimal logit of a logistic critic is ``D(x) = log p_data(x) / p_G(x)``. After training,
a copy of the critic (``ratio_critic``) is trained ``n_calibration_steps`` more steps against
the final (averaged) generator, kept fixed, without the gradient penalty (which smooths the
logit away from the ratio), so that its logit estimates that ratio for the generator that
samples; with ``max_time`` the calibration gets the last ``CALIBRATION_SHARE`` of the budget
and stops early when its steps are done. ``log M`` is the ``REJECTION_QUANTILE`` quantile of
``D`` on generated rows. ``sample`` then keeps a generated row with probability
``min(1, exp(D(x) - log M))`` and redraws the others (at most ``MAX_REJECTION_ROUNDS``
rounds, after which the last draws are kept), which removes most of the low-density
"bridges" a continuous generator lays between separate modes. ``acceptance_rate_`` is the
expected share of rows kept per round. Beyond a few columns it stops paying for its share
of the budget, so it is on by default only up to ``REJECTION_MAX_FEATURES`` columns
(measurements: ``docs/benchmarks/gan.md``).

References:
    Azadi et al., "Discriminator Rejection Sampling", ICLR 2019.
"""

from __future__ import annotations

import time

import torch

from synthkit.training.distributed import agreed

#: rounds of discriminator rejection sampling before the remaining rows are taken as drawn
MAX_REJECTION_ROUNDS = 50
#: quantile of the calibrated critic's logits on generated rows used as ``log M``
REJECTION_QUANTILE = 0.95
#: share of a ``max_time`` budget kept for the critic's calibration when rejection sampling is on
CALIBRATION_SHARE = 0.4
#: ``rejection_sampling=None`` turns it on (with ``"r1"``) for data of at most this many columns
REJECTION_MAX_FEATURES = 3


def calibrate_critic(gan, X: torch.Tensor, c: torch.Tensor | None, deadline: float | None = None) -> None:
    """Train ``gan``'s ratio critic (a copy of its critic) against the fixed final generator,
    then set ``gan.rejection_log_m_`` and ``gan.acceptance_rate_``. The training critic
    itself stays as it is (``critic_score``)."""
    device, critic = gan._device(), gan.modules_["ratio_critic"]
    critic.load_state_dict(gan.modules_["critic"].state_dict())
    generator = gan.modules_["generator"]
    generator.requires_grad_(False)
    optimizer = torch.optim.Adam(critic.parameters(), lr=gan.learning_rate, betas=(0.5, 0.9))
    batch = min(int(gan.batch_size), len(X))
    try:
        for _ in range(int(gan.n_calibration_steps)):
            if deadline is not None and agreed(time.perf_counter() >= deadline):
                break
            idx = torch.randint(0, len(X), (batch,))
            real = X[idx].to(device)
            cond = None if c is None else c[idx].to(device)
            with torch.no_grad():
                fake = gan._generate(batch, cond)
            loss = gan.critic_loss(real, fake, cond, gp_weight=0.0, critic=critic)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    finally:
        generator.requires_grad_(True)
    m = min(10 * len(X), 20_000)
    idx = torch.randint(0, len(X), (m,))
    cond = None if c is None else c[idx].to(device)
    with torch.no_grad():
        logits = critic(gan._generate(m, cond), cond).double()
    gan.rejection_log_m_ = float(torch.quantile(logits, REJECTION_QUANTILE))
    gan.acceptance_rate_ = float(torch.exp(logits - gan.rejection_log_m_).clamp(max=1.0).mean())


def rejection_sample(gan, n: int, c: torch.Tensor | None) -> torch.Tensor:
    """``n`` model-space rows of ``gan``, each kept with probability ``min(1, exp(D(x) - log M))``."""
    critic, device = gan.modules_["ratio_critic"], gan._device()
    out = torch.empty(n, gan.n_features_in_, device=device)
    todo = torch.arange(n, device=device)
    for _ in range(MAX_REJECTION_ROUNDS):
        cond = None if c is None else c[todo]
        draw = gan._generate(len(todo), cond)
        out[todo] = draw
        keep = torch.rand(len(todo), device=device).log() < critic(draw, cond) - gan.rejection_log_m_
        todo = todo[~keep]
        if len(todo) == 0:
            break
    return out
