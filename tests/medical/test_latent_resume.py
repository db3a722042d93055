"""Resuming a latent diffusion fit from a fresh ImageSynthesizer (issue 22): the autoencoder stage
checkpoints beside the diffusion's and both stages continue from their checkpoints on
``fit(..., resume=True)`` instead of starting over (or failing on the changed latents)."""

import shutil

import numpy as np
import pytest

from synthkit.domains.medical import make_synthetic_shapes
from synthkit.domains.medical.synthesizer import ImageSynthesizer

TINY_AE = {"channels": [8, 8, 8]}


@pytest.fixture(scope="module")
def volumes():
    images, _ = make_synthetic_shapes(4, image_size=16, spatial_dims=3, random_state=0)
    return images


def make(ckpt, epochs, ae_epochs=1, **kw):
    params = {"max_epochs": epochs, "n_timesteps": 20, "n_sampling_steps": 2, "checkpoint_dir": str(ckpt)}
    return ImageSynthesizer(spatial_dims=3, image_size=(16, 16, 16), latent=True, backbone_params=params,
                            autoencoder_params={**TINY_AE, "max_epochs": ae_epochs}, **kw)


@pytest.mark.parametrize("random_state", [0, None])
def test_a_fresh_object_resumes_both_stages(volumes, tmp_path, random_state):
    """Stopped in the diffusion stage (epoch 1 of 2): the finished autoencoder is restored from its
    checkpoint (its history, wall-clock seconds included, is the checkpoint's: not retrained) and
    the diffusion continues at epoch 2."""
    ckpt = tmp_path / "ckpt"
    first = make(ckpt, 1, random_state=random_state).fit(volumes)
    assert (ckpt / "autoencoder" / "checkpoint.pt").is_file() and (ckpt / "checkpoint.pt").is_file()
    again = make(ckpt, 2, random_state=random_state).fit(volumes, resume=True)  # a new object
    assert again.autoencoder_.history_ == first.autoencoder_.history_
    assert again.backbone_.n_epochs_ == 2 and again.backbone_.history_[0] == first.backbone_.history_[0]
    assert again.fit_seed_ == first.fit_seed_
    x = again.sample(2, random_state=0)
    assert x.shape == (2, 1, 16, 16, 16) and np.isfinite(x).all()


def test_a_fit_stopped_in_the_autoencoder_stage_resumes_it(volumes, tmp_path):
    ckpt = tmp_path / "ckpt"
    # the autoencoder stage alone finished (as when a run is killed before the diffusion checkpoints)
    first = make(ckpt, 2, ae_epochs=1, random_state=3).fit(volumes)
    (ckpt / "checkpoint.pt").unlink()
    shutil.rmtree(ckpt / "autoencoder" / "fitted")  # the stage had not finished
    again = make(ckpt, 2, ae_epochs=2, random_state=None)  # the autoencoder had 1 epoch of 2 done
    with pytest.warns(UserWarning, match="no checkpoint"):  # the diffusion has none: it starts afresh
        again.fit(volumes, resume=True)
    assert again.fit_seed_ == 3  # read from the autoencoder's checkpoint
    assert again.autoencoder_.n_epochs_ == 2 and again.autoencoder_.history_[0] == first.autoencoder_.history_[0]
    assert again.backbone_.n_epochs_ == 2


def test_the_autoencoder_keeps_its_own_checkpoint_dir(volumes, tmp_path):
    synth = make(tmp_path / "ckpt", 1, random_state=0)
    synth.set_params(autoencoder_params={**TINY_AE, "max_epochs": 1, "checkpoint_dir": str(tmp_path / "ae")})
    synth.fit(volumes)
    assert (tmp_path / "ae" / "checkpoint.pt").is_file()
    assert not (tmp_path / "ckpt" / "autoencoder").exists()


CHILD = """
import sys
from synthkit.domains.medical import make_synthetic_shapes
from synthkit.domains.medical.synthesizer import ImageSynthesizer
images, _ = make_synthetic_shapes(4, image_size=16, spatial_dims=3, random_state=0)
params = {"max_time": 60.0, "n_timesteps": 20, "n_sampling_steps": 2, "checkpoint_dir": sys.argv[1],
          "checkpoint_interval": 0.0}
ImageSynthesizer(spatial_dims=3, image_size=(16, 16, 16), latent=True, random_state=0, backbone_params=params,
                 autoencoder_params={"channels": [8, 8, 8], "max_time": 2.0}).fit(images)
"""


def test_a_killed_time_budgeted_fit_resumes_on_a_new_object(volumes, tmp_path):
    """A real kill (SIGKILL) in the diffusion stage of a ``max_time`` fit, then the same call with
    ``resume=True`` on a new object: the autoencoder is its checkpoint's (a time-budgeted retrain
    would give other latents and the diffusion's checkpoint would be refused), and the diffusion
    continues from its checkpoint's epoch within the rest of its budget."""
    import signal
    import subprocess
    import sys
    import time

    from synthkit.training.checkpoint import read_checkpoint

    ckpt = tmp_path / "ckpt"
    # cwd outside the source tree: "-c" puts the cwd first on sys.path, and the repository root
    # holds synthkit/ without the installed synthkit.domains
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(ckpt)], cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if (ckpt / "checkpoint.pt").is_file():
                payload = read_checkpoint(ckpt)
                if payload is not None and payload["state"]["epoch"] >= 3:
                    break
            time.sleep(0.2)
        assert child.poll() is None, "the child fit ended before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
    ae_saved, saved = read_checkpoint(ckpt / "autoencoder"), read_checkpoint(ckpt)
    params = {"max_time": 60.0, "n_timesteps": 20, "n_sampling_steps": 2, "checkpoint_dir": str(ckpt),
              "max_epochs": saved["state"]["epoch"] + 2}  # a short rest, to keep the test quick
    again = ImageSynthesizer(spatial_dims=3, image_size=(16, 16, 16), latent=True, random_state=0,
                             backbone_params=params,
                             autoencoder_params={**TINY_AE, "max_time": 2.0}).fit(volumes, resume=True)
    assert again.autoencoder_.history_ == ae_saved["history"]
    assert again.backbone_.history_[: len(saved["history"])] == saved["history"]
    assert again.backbone_.n_epochs_ == saved["state"]["epoch"] + 2
