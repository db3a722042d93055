"""Suite-wide settings and helpers: the tests use tiny networks, which run fastest on one thread."""

import pytest
import torch

torch.set_num_threads(1)


def _assert_exact_per_row_gradients(modules, name, loss, n_rows, *, atol):
    """DP-SGD's per-row gradients (``PerSampleGradients``) of ``loss().mean()`` equal autograd's
    gradient of each row's ``loss()[i]``; ``loss`` is called after ``torch.manual_seed(1)``
    every time, so its noise is the same. Returns the finished ``PerSampleGradients``."""
    from synthkit.privacy.per_sample import PerSampleGradients

    params = list(modules.parameters())
    with PerSampleGradients(modules, name) as psg:
        psg.start(n_rows)
        torch.manual_seed(1)
        loss().mean().backward()
        psg.collect()
        per_row = [p.grad_sample.clone() for p in params]
    for i in range(n_rows):
        torch.manual_seed(1)
        expected = torch.autograd.grad(loss()[i], params, allow_unused=True)
        for got, want, p in zip(per_row, expected, params):
            torch.testing.assert_close(got[i], torch.zeros_like(p) if want is None else want, atol=atol, rtol=1e-4)
    return psg


@pytest.fixture
def assert_exact_per_row_gradients():
    """The check of :func:`_assert_exact_per_row_gradients`, for DP tests in any module."""
    return _assert_exact_per_row_gradients
