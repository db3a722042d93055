"""A small conv encoder trained here, on the real images only, as the feature space of FID / KID.

FID and KID are usually computed on Inception-v3 features, whose weights are a download and
were learned on photographs, not scans. Following the practice of medical generative work
that trains its own feature network on the data at hand, this encoder learns from the real
images alone with a self-supervised pretext task that needs no labels: **rotation
prediction** (Gidaris, Singh & Komodakis 2018). Every image is shown rotated by 0, 90, 180
and 270 degrees in its first two spatial axes (the in-plane axes of an axial slice or
volume) and the network predicts which rotation it sees; to do so it must learn the
anatomy's layout and orientation.

The feature vector is not the penultimate layer alone: a network trained on rotations
learns what is where and discards texture, so its last activations barely move when images
are blurred or noised (FID then fails to rank such distortions). Like the texture
statistics of Gatys, Ecker & Bethge (2016), the mean and standard deviation over space of
every channel of every conv block are kept beside the penultimate projection, so the
features see local contrast and noise as well as layout. Images whose in-plane axes differ
in length are shown at 0 and 180 degrees only.

The network is tiny (three strided conv blocks, 2-D or 3-D) and trained for a few epochs,
seeded, on the CPU in seconds; inputs are standardized with one mean and standard deviation
per channel of the real set, so synthetic images are read on the real images' scale.

References:
    Gidaris, Singh & Komodakis (2018). Unsupervised representation learning by predicting
    image rotations. ICLR.
    Gatys, Ecker & Bethge (2016). Image style transfer using convolutional neural networks. CVPR.
    Heusel et al. (2017). GANs trained by a two time-scale update rule converge to a local
    Nash equilibrium. NeurIPS (FID, the use of a fixed network's features).
"""

from __future__ import annotations

import numpy as np

#: the name reports give for this feature space
ENCODER_NAME = ("rotation-prediction conv encoder (Gidaris et al. 2018) trained on the real images; "
                "features: per-block channel mean/std + penultimate layer")


def _network(spatial_dims: int, in_channels: int, channels, n_features: int, n_classes: int):
    from torch import nn

    conv = nn.Conv2d if spatial_dims == 2 else nn.Conv3d
    blocks, c_in = [], in_channels
    for c in channels:
        blocks.append(nn.Sequential(conv(c_in, c, 3, stride=2, padding=1), nn.GroupNorm(min(8, c), c), nn.SiLU()))
        c_in = c
    return nn.ModuleDict({"blocks": nn.ModuleList(blocks),
                          "proj": nn.Sequential(nn.Linear(c_in, n_features), nn.SiLU()),
                          "head": nn.Linear(n_features, n_classes)})


def _forward(net, x):
    """``(penultimate, features)``: the projection the rotation head reads, and the feature
    vector (channel mean and standard deviation over space of every block, then the projection)."""
    import torch

    pooled, axes = [], tuple(range(2, x.ndim))
    for block in net["blocks"]:
        x = block(x)
        pooled += [x.mean(axes), x.std(axes)]
    penultimate = net["proj"](pooled[-2])
    return penultimate, torch.cat(pooled + [penultimate], 1)


class RotationEncoder:
    """Conv encoder trained to predict the rotation of real images; ``transform`` gives its features.

    Args:
        n_features: width of the penultimate layer (the feature space).
        channels: output channels of the strided conv blocks.
        max_epochs: passes over the real images (each image seen at every rotation).
        batch_size: images per step (times the number of rotations).
        lr: Adam learning rate.
        random_state: seed of the initialization and the shuffling.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or a torch device.

    Example:
        >>> from synthkit.domains.medical import make_mni152_slices
        >>> x = make_mni152_slices(12, image_size=16, random_state=0).array
        >>> enc = RotationEncoder(max_epochs=2).fit(x)
        >>> enc.transform(x).shape
        (12, 256)
    """

    name = ENCODER_NAME

    def __init__(self, n_features: int = 32, channels=(16, 32, 64), max_epochs: int = 10, batch_size: int = 32,
                 lr: float = 2e-3, random_state: int = 0, device="auto"):
        self.n_features, self.channels, self.max_epochs = n_features, tuple(channels), max_epochs
        self.batch_size, self.lr, self.random_state, self.device = batch_size, lr, random_state, device

    # ------------------------------------------------------------------ fitting
    def fit(self, images) -> RotationEncoder:
        """Train on ``images`` ``(n, C, *spatial)`` (2 or 3 spatial axes) with the rotation task."""
        import torch

        from synthkit.training.runtime import resolve_device

        X = self._check(images, fitted=False)
        self.spatial_dims_, self.in_channels_ = X.ndim - 2, X.shape[1]
        self.image_shape_ = X.shape[1:]
        self.rotations_ = (0, 1, 2, 3) if X.shape[2] == X.shape[3] else (0, 2)
        axes = tuple(range(X.ndim))
        other = (0,) + axes[2:]
        self.mean_ = X.mean(axis=other).astype(np.float32)
        self.std_ = np.maximum(X.std(axis=other), 1e-6).astype(np.float32)
        self.device_ = resolve_device(self.device)
        rng = np.random.default_rng(self.random_state)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.random_state)
            self.net_ = _network(self.spatial_dims_, self.in_channels_, self.channels, self.n_features,
                                 len(self.rotations_)).to(self.device_)
        self.n_features_out_ = 2 * sum(self.channels) + self.n_features
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        data = self._tensor(X)
        self.history_ = []
        self.net_.train()
        for _ in range(int(self.max_epochs)):
            order = torch.as_tensor(rng.permutation(len(data)), device=self.device_)
            total = 0.0
            for start in range(0, len(data), self.batch_size):
                loss = self._rotation_loss(data[order[start:start + self.batch_size]])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.detach()) * min(self.batch_size, len(data) - start)
            self.history_.append(total / len(data))
        self.net_.eval()
        return self

    def loss(self, images) -> float:
        """Mean cross-entropy of the rotation task on ``images`` (``log 4`` ≈ 1.386 at chance)."""
        import torch

        data = self._tensor(self._check(images))
        self.net_.eval()
        with torch.no_grad():
            return float(sum(float(self._rotation_loss(data[i:i + 256])) * len(data[i:i + 256])
                             for i in range(0, len(data), 256)) / len(data))

    def accuracy(self, images) -> float:
        """Share of rotated ``images`` whose rotation is predicted right."""
        import torch

        data = self._tensor(self._check(images))
        with torch.no_grad():
            x, y = self._rotated(data)
            return float((self.net_["head"](_forward(self.net_, x)[0]).argmax(1) == y).float().mean())

    # ------------------------------------------------------------------ features
    def transform(self, images, batch_size: int = 256) -> np.ndarray:
        """Features ``(n, n_features_out_)`` of ``images`` (unrotated; see the module docstring)."""
        import torch

        data = self._tensor(self._check(images))
        self.net_.eval()
        with torch.no_grad():
            out = [_forward(self.net_, data[i:i + batch_size])[1].cpu().numpy() for i in range(0, len(data), batch_size)]
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, self.n_features_out_))

    # ------------------------------------------------------------------ helpers
    def _rotated(self, x):
        import torch

        xs = [torch.rot90(x, k, dims=(2, 3)) for k in self.rotations_]
        y = torch.arange(len(self.rotations_), device=x.device).repeat_interleave(len(x))
        return torch.cat(xs), y

    def _rotation_loss(self, x):
        import torch.nn.functional as F

        xr, y = self._rotated(x)
        return F.cross_entropy(self.net_["head"](_forward(self.net_, xr)[0]), y)

    def _tensor(self, X: np.ndarray):
        import torch

        shape = (1, -1) + (1,) * (X.ndim - 2)
        Z = (X - self.mean_.reshape(shape)) / self.std_.reshape(shape)
        return torch.as_tensor(Z, dtype=torch.float32, device=self.device_)

    def _check(self, images, fitted: bool = True) -> np.ndarray:
        X = np.asarray(getattr(images, "array", images), dtype=np.float32)
        if X.ndim not in (4, 5):
            raise ValueError(f"images must be an array (n, C, H, W) or (n, C, H, W, D), got shape {X.shape}.")
        if not np.isfinite(X).all():
            raise ValueError("images hold NaN or infinite values; the encoder needs finite intensities.")
        if fitted:
            if not hasattr(self, "net_"):
                raise ValueError("this RotationEncoder is not fitted yet: call fit(real_images) first.")
            if X.shape[1:] != self.image_shape_:
                raise ValueError(f"images of shape {X.shape[1:]} given to an encoder fitted on {self.image_shape_}; "
                                 "bring both sets to one grid first.")
        elif len(X) < 2:
            raise ValueError(f"the encoder needs at least 2 real images to train on, got {len(X)}.")
        return X
