"""Restricted Boltzmann machine and deep belief network.

Modules: ``model`` (:class:`RBM`, the estimator), ``visible`` (the visible units: layout,
softmax bins, checks), ``layer`` (:class:`RBMLayer`, one RBM's energy and conditionals),
``dbn`` (greedy layer-wise training of a deep belief net).


An RBM couples visible units ``v`` and binary hidden units ``h`` through the energy
``E(v, h)``; summing out ``h`` gives the free energy ``F(v)`` and ``p(v) ∝ exp(-F(v))``.
With few hidden units (the default, 12) ``log Z`` is a sum over the ``2^n_hidden`` hidden
states and the RBM is trained, scored and sampled exactly. Wider RBMs are trained by
contrastive divergence: the gradient of ``mean F(v_data) - mean F(v_model)`` with the model
samples (``k`` Gibbs steps from the data, CD-k, or from persistent chains, PCD) held fixed is
the CD estimate of the log-likelihood gradient, so the shared training loop and optimizer
apply unchanged.

References:
    Hinton, "Training Products of Experts by Minimizing Contrastive Divergence",
    Neural Computation 2002.
    Tieleman, "Training Restricted Boltzmann Machines using Approximations to the
    Likelihood Gradient", ICML 2008.
    Hinton, "A Practical Guide to Training Restricted Boltzmann Machines", UTML TR 2010-003.
    Cho, Ilin & Raiko, "Improved Learning of Gaussian-Bernoulli Restricted Boltzmann
    Machines", ICANN 2011.
    Krizhevsky, "Learning Multiple Layers of Features from Tiny Images", 2009.
    Hinton, Osindero & Teh, "A Fast Learning Algorithm for Deep Belief Nets",
    Neural Computation 2006.
    Larochelle & Bengio, "Classification using Discriminative Restricted Boltzmann
    Machines", ICML 2008.
    Taylor, Hinton & Roweis, "Modeling Human Motion Using Binary Latent Variables", NIPS 2007.
    Salakhutdinov & Murray, "On the Quantitative Analysis of Deep Belief Networks", ICML 2008
    (the exact partition function of an RBM with few hidden units, by enumeration).
    Fischer & Igel, "Training Restricted Boltzmann Machines: An Introduction",
    Pattern Recognition 2014 (exact log-likelihood gradients of small RBMs as the baseline).
    Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017.
"""

from synthkit.backbones.rbm.layer import RBMLayer
from synthkit.backbones.rbm.model import MAX_EXACT_HIDDEN, RBM, SAMPLING_INITS
from synthkit.backbones.rbm.visible import SOFTMAX_MAX_UNITS, SOFTMAX_MIN_ROWS, VISIBLE_TYPES

__all__ = ["MAX_EXACT_HIDDEN", "RBM", "RBMLayer", "SAMPLING_INITS", "SOFTMAX_MAX_UNITS", "SOFTMAX_MIN_ROWS",
           "VISIBLE_TYPES"]
