"""Kill -9 and resume: every fit, seeded or not, in every domain (issue 25).

An unseeded fit draws its seed once and records it in every checkpoint; a resumed fit reads
it back before anything random happens, so the same data gives the same encoded rows, the
same validation split and the same fingerprint. Each CLI test kills a real process with
SIGKILL after its first checkpoint and checks that the resumed run continues the history
where the checkpoint left off (no epoch trained twice, none lost).
"""

import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch

import synthkit
from synthkit.backbones.vae import VAE
from synthkit.registry import DOMAINS
from synthkit.training.checkpoint import FILENAME, read_checkpoint


def _vae(**kw):
    return VAE(hidden_dims=(16,), latent_dim=2, kl_warmup=0, verbose=0, **kw)


@pytest.fixture(scope="module")
def rows():
    return np.random.default_rng(0).normal(size=(200, 3))


def _epochs(history):
    return [h["epoch"] for h in history]


# ---------------------------------------------------------------------- Python API
def test_unseeded_fit_resumes_with_its_recorded_seed(rows, tmp_path):
    """A random variable order and a validation split, both drawn from the fit's seed, are
    drawn again identically on resume; the history continues."""
    kw = dict(hidden_dim=16, order="random", early_stopping=True, verbose=0, checkpoint_dir=tmp_path)
    first = synthkit.make_generator("autoregressive", max_epochs=2, **kw).fit(rows)
    assert read_checkpoint(tmp_path)["seed"] == first.fit_seed_
    resumed = synthkit.make_generator("autoregressive", max_epochs=4, **kw).fit(rows, resume=True)
    assert resumed.fit_seed_ == first.fit_seed_
    assert list(resumed.order_) == list(first.order_)
    assert _epochs(resumed.history_) == [1, 2, 3, 4]
    assert resumed.history_[:2] == first.history_


def test_unseeded_deep_belief_net_resumes_from_its_layer_checkpoints(rows, tmp_path):
    """A DBN checkpoints in one sub-folder per layer; an unseeded resume reads the seed there
    (it used to draw a fresh one and refuse its own layer checkpoints)."""
    from synthkit.backbones.rbm import RBM

    kw = dict(hidden_layers=(8, 4), max_epochs=2, n_gibbs_steps=5, n_chains=32, verbose=0)
    first = RBM(checkpoint_dir=tmp_path, **kw).fit(rows)
    assert not (tmp_path / FILENAME).exists() and (tmp_path / "layer0" / FILENAME).exists()
    resumed = RBM(checkpoint_dir=tmp_path, **kw).fit(rows, resume=True)
    assert resumed.fit_seed_ == first.fit_seed_
    seeded = RBM(random_state=first.fit_seed_, **kw).fit(rows)
    np.testing.assert_array_equal(resumed.sample(5, random_state=0), seeded.sample(5, random_state=0))


def test_two_unseeded_fits_draw_different_seeds(rows):
    a, b = _vae(max_epochs=1).fit(rows), _vae(max_epochs=1).fit(rows)
    assert a.fit_seed_ != b.fit_seed_


def test_resume_refuses_a_checkpoint_of_another_seed(rows, tmp_path):
    _vae(max_epochs=1, random_state=1, checkpoint_dir=tmp_path).fit(rows)
    with pytest.raises(ValueError, match="seed 1.*random_state=2"):
        _vae(max_epochs=2, random_state=2, checkpoint_dir=tmp_path).fit(rows, resume=True)


def test_resume_without_a_checkpoint_warns_naming_the_folder(rows, tmp_path):
    folder = tmp_path / "typo"
    with pytest.warns(UserWarning, match=f"no checkpoint in {folder}"):
        model = _vae(max_epochs=1, checkpoint_dir=folder).fit(rows, resume=True)
    assert model.n_epochs_ == 1


def test_a_checkpoint_cut_in_half_is_a_clear_error(rows, tmp_path):
    _vae(max_epochs=1, checkpoint_dir=tmp_path).fit(rows)
    path = tmp_path / FILENAME
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="cannot read checkpoint .*truncated"):
        _vae(max_epochs=2, checkpoint_dir=tmp_path).fit(rows, resume=True)


def test_a_foreign_torch_file_is_a_clear_error(rows, tmp_path):
    torch.save({"model": torch.zeros(3)}, tmp_path / FILENAME)
    with pytest.raises(ValueError, match="not a synthkit checkpoint"):
        _vae(max_epochs=2, checkpoint_dir=tmp_path).fit(rows, resume=True)


def test_checkpoint_of_other_networks_is_a_clear_error(rows, tmp_path):
    _vae(max_epochs=1, random_state=0, checkpoint_dir=tmp_path).fit(rows)
    with pytest.raises(ValueError, match="different training data|does not match"):
        VAE(hidden_dims=(8,), latent_dim=2, max_epochs=2, random_state=0, verbose=0,
            checkpoint_dir=tmp_path).fit(rows, resume=True)


def test_unseeded_tabular_synthesizer_resumes(tmp_path):
    """Dequantization and missing-value noise of the encoding come from the fit's seed."""
    from synthkit.domains.tabular import TabularSynthesizer
    from synthkit.domains.tabular.datasets import load_table

    df, _ = load_table("penguins")  # gaps and integer columns: the encoding draws noise
    params = {"hidden_dims": (16,), "latent_dim": 2, "checkpoint_dir": str(tmp_path), "kl_warmup": 0}
    first = TabularSynthesizer("vae", backbone_params={**params, "max_epochs": 2}).fit(df)
    resumed = TabularSynthesizer("vae", backbone_params={**params, "max_epochs": 4}).fit(df, resume=True)
    assert resumed.fit_seed_ == first.fit_seed_
    assert _epochs(resumed.generator_.history_) == [1, 2, 3, 4]
    assert resumed.generator_.history_[:2] == first.generator_.history_
    assert len(resumed.sample(5)) == 5


def test_unseeded_molecule_generator_resumes(tmp_path):
    """Randomized SMILES writings come from the fit's seed."""
    pytest.importorskip("rdkit")
    from synthkit.domains.molecules import MoleculeGenerator
    from synthkit.domains.molecules.data import load_dataset

    smiles = load_dataset("nci")[:60]
    params = {"hidden_dim": 16, "embedding_dim": 8, "checkpoint_dir": str(tmp_path), "verbose": 0}
    first = MoleculeGenerator(n_randomized=2, backbone_params={**params, "max_epochs": 1}).fit(smiles)
    resumed = MoleculeGenerator(n_randomized=2, backbone_params={**params, "max_epochs": 3}).fit(smiles, resume=True)
    assert _epochs(resumed.backbone_.history_) == [1, 2, 3]
    assert resumed.backbone_.history_[:1] == first.backbone_.history_


def test_a_resumed_private_fit_spends_exactly_the_uninterrupted_epsilon(rows, tmp_path):
    """The accountant's history travels in the checkpoint: a fit stopped part-way (by its
    clock) and resumed takes the planned steps once and reports the same epsilon."""
    pytest.importorskip("opacus")
    from synthkit.privacy import fit_private

    def fit(model, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_private(model, rows, epsilon=1.0, delta=1e-4, bounds=(-4, 4), **kw)

    whole = fit(_vae(max_epochs=6, batch_size=20, random_state=0))
    part = fit(_vae(max_epochs=6, batch_size=20, max_time=0.05, checkpoint_dir=tmp_path))
    assert part.dp_steps_ < whole.dp_steps_, "the clock did not interrupt the first fit"
    rest = fit(_vae(max_epochs=6, batch_size=20, checkpoint_dir=tmp_path), resume=True)
    assert rest.dp_steps_ == whole.dp_steps_
    assert rest.dp_epsilon_ == pytest.approx(whole.dp_epsilon_, rel=1e-9)
    assert read_checkpoint(tmp_path)["state"]["accountant_history"]


def test_unseeded_private_tabular_fit_resumes(tmp_path):
    pytest.importorskip("opacus")
    from synthkit.domains.tabular import TabularSynthesizer

    rng = np.random.default_rng(0)
    import pandas as pd

    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["x", "y"], 300)})
    meta = {"columns": {"a": {"kind": "numerical", "min": -5, "max": 5},
                        "b": {"kind": "categorical", "categories": ["x", "y"]}}}
    params = {"hidden_dims": (16,), "latent_dim": 2, "checkpoint_dir": str(tmp_path), "batch_size": 50}
    dp = {"epsilon": 2.0, "delta": 1e-4}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = TabularSynthesizer("vae", metadata=meta, dp=dp, backbone_params={"hidden_dims": (16,),
                                   "latent_dim": 2, "batch_size": 50, "max_epochs": 4}).fit(df)
        TabularSynthesizer("vae", metadata=meta, dp=dp, backbone_params={**params, "max_epochs": 4,
                           "max_time": 0.05}).fit(df)
        rest = TabularSynthesizer("vae", metadata=meta, dp=dp,
                                  backbone_params={**params, "max_epochs": 4}).fit(df, resume=True)
    assert rest.privacy_["steps"] == whole.privacy_["steps"]
    assert rest.privacy_["epsilon"] == pytest.approx(whole.privacy_["epsilon"], rel=1e-9)


# ---------------------------------------------------------------------- the command line
def _history(model):
    inner = getattr(model, "generator_", None) or getattr(model, "backbone_", None) or model
    return inner.history_


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("resume_data")
    rng = np.random.default_rng(0)
    table = folder / "table.csv"
    import pandas as pd

    pd.DataFrame({"age": rng.integers(18, 90, 400), "income": rng.lognormal(10, 1, 400).round(2),
                  "city": rng.choice(["a", "b", "c"], 400)}).to_csv(table, index=False)
    out = {"tabular": table, "array": "moons"}
    try:
        from synthkit.domains.molecules.data import load_dataset

        mols = folder / "mols.smi"
        mols.write_text("\n".join(load_dataset("nci")[:120]) + "\n")
        out["molecules"] = mols
    except ImportError:
        pass
    for name in ("medical", "audio"):  # folders of NIfTI / WAV files, from the domain's own example
        try:
            adapter = DOMAINS.get(name)
        except (ImportError, ValueError):
            continue
        path = folder / f"{name}{adapter.suffix}"
        adapter.write(adapter.example().data, path)
        out[name] = path
    return out


DOMAIN_PARAMS = {
    "array": ["--backbone", "vae", "--param", "hidden_dims=[16]"],
    "tabular": ["--backbone", "vae", "--param", "hidden_dims=[16]"],
    "molecules": ["--param", "hidden_dim=16", "--param", "embedding_dim=8", "--param", "n_randomized=2"],
    "medical": ["--backbone", "vae", "--param", "hidden_dims=[16]"],
    "audio": ["--backbone", "vae", "--param", "hidden_dims=[16]"],
}


@pytest.mark.parametrize("domain", list(DOMAIN_PARAMS))
def test_kill_and_resume_an_unseeded_fit_from_the_command_line(domain, files, tmp_path):
    """A real process, unseeded, is killed (SIGKILL) after its first checkpoint; the same
    command with --resume finishes, and the model loads, samples, and holds the killed run's
    epochs followed by the new ones."""
    if domain not in files:
        pytest.skip(f"{domain} needs its extra")
    ckpt, out = tmp_path / "ckpt", tmp_path / "model"
    cmd = [sys.executable, "-m", "synthkit.cli", "fit", domain, str(files[domain]), "--out", str(out),
           "--checkpoint-dir", str(ckpt), "--quiet", "--param", "checkpoint_interval=0.2", *DOMAIN_PARAMS[domain]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # cwd outside the repository, so the installed package (not the source tree) is run
    proc = subprocess.Popen(cmd + ["--max-epochs", "100000"], env=env, cwd=tmp_path)
    try:
        deadline = time.time() + 120
        while not (ckpt / FILENAME).exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.1)
        time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    saved = read_checkpoint(ckpt)
    assert saved is not None, "no checkpoint was written"
    done = saved["state"]["epoch"]
    assert 0 < done < 100000
    result = subprocess.run(cmd + ["--max-epochs", str(done + 2), "--resume"], env=env, cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    model = synthkit.load(out)
    history = _history(model)
    assert _epochs(history) == list(range(1, done + 3))
    assert history[:done] == saved["history"]
    steps = [h["step"] for h in history]
    assert all(b > a for a, b in zip(steps, steps[1:]))
    assert len(model.sample(4, random_state=0)) == 4


def test_resume_from_an_empty_folder_says_so_on_the_command_line(tmp_path):
    folder = tmp_path / "nothing-here"
    result = subprocess.run(
        [sys.executable, "-m", "synthkit.cli", "fit", "array", "moons", "--out", str(tmp_path / "m"), "--backbone",
         "vae", "--max-epochs", "1", "--checkpoint-dir", str(folder), "--resume", "--quiet", "--param",
         "hidden_dims=[8]"], cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    assert f"synthkit: warning: resume: no checkpoint in {folder}" in result.stderr
