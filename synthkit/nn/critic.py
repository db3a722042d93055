"""A critic (discriminator) for flat vectors with a class-projection head."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm as _sn


class ProjectionCritic(nn.Module):
    """``D(x, c) = w . phi(x) + embed(c) . phi(x)``: an MLP critic with a projection head.

    For one-hot class labels the label enters through the inner product of its learned
    embedding with the critic's features (the projection discriminator of Miyato &
    Koyama 2018); a continuous condition is concatenated to ``x`` instead. Hidden layers
    use LeakyReLU(0.2) and no batch statistics, so per-row gradient penalties are valid.

    Args:
        in_features: width of ``x``.
        hidden_dims: widths of the feature layers ``phi``.
        condition_dim: width of ``c`` (0 for none).
        projection: ``True`` when ``c`` holds one-hot classes (projection head),
            ``False`` to concatenate a continuous ``c`` to ``x``.
        spectral_norm: wrap every linear map in spectral normalization (Miyato et al. 2018).

    Example:
        >>> critic = ProjectionCritic(3, (16,), condition_dim=2, projection=True)
        >>> critic(torch.zeros(5, 3), torch.eye(2)[[0, 1, 0, 1, 0]]).shape
        torch.Size([5])
    """

    def __init__(self, in_features: int, hidden_dims: Sequence[int] = (256, 256), *, condition_dim: int = 0,
                 projection: bool = True, spectral_norm: bool = False):
        super().__init__()
        wrap = _sn if spectral_norm else (lambda m: m)
        self.projection = bool(condition_dim) and projection
        width = in_features + (condition_dim if condition_dim and not projection else 0)
        layers: list[nn.Module] = []
        for h in hidden_dims:
            layers += [wrap(nn.Linear(width, h)), nn.LeakyReLU(0.2)]
            width = h
        self.features = nn.Sequential(*layers)
        self.head = wrap(nn.Linear(width, 1))
        self.embed = wrap(nn.Linear(condition_dim, width, bias=False)) if self.projection else None
        self.condition_dim = condition_dim

    def forward(self, x: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        if self.condition_dim and not self.projection:
            x = torch.cat([x, c], dim=1)
        phi = self.features(x)
        out = self.head(phi).squeeze(1)
        if self.projection:
            out = out + (self.embed(c) * phi).sum(1)
        return out
