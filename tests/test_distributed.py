"""Data-parallel training over torch.distributed (gloo): 2 processes agree with 1.

Two worker processes are started with ``subprocess`` and meet through a file store in
``tmp_path`` (a short collective timeout and a process timeout turn a hang into a failure);
one thread each. The reference runs in this process on the same data.
"""

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import synthkit
from synthkit.backbones.flow import NormalizingFlow
from synthkit.training.distributed import Ranks

TIMEOUT = 120  # seconds for a whole 2-process run (a hang fails instead of blocking CI)

WORKER = textwrap.dedent('''
    import datetime, json, os, sys, time
    os.environ["OMP_NUM_THREADS"] = "1"
    import numpy as np, torch
    torch.set_num_threads(1)
    import torch.distributed as dist
    rank, world, store, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    dist.init_process_group("gloo", init_method="file://" + store, rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=30))
    sys.path.insert(0, os.path.dirname(out))
    from shared import DATA, FLOW, NoisyFlow
    from synthkit.backbones.flow import NormalizingFlow

    X = np.load(DATA)
    results = {}

    def weights(m):
        return {k: v.detach().clone() for k, v in m.modules_.state_dict().items()}

    # 1. the reference comparison: early stopping (all-reduced validation), EMA, uneven batches
    a = NormalizingFlow(**FLOW, max_epochs=2, checkpoint_dir=os.path.join(os.path.dirname(out), "ckpt"))
    a.fit(X)
    results["history"] = a.history_
    torch.save({"two": weights(a)}, out + f".a{rank}.pt")
    # 2. resume the 2-process run for 2 more epochs
    b = NormalizingFlow(**{**FLOW, "max_epochs": 4}, checkpoint_dir=os.path.join(os.path.dirname(out), "ckpt"))
    b.fit(X, resume=True)
    torch.save({"four": weights(b)}, out + f".b{rank}.pt")
    results["resumed_steps"] = b.n_steps_
    # 3. no seed: rank 0's seed and weights are used by both
    torch.manual_seed(1000 + rank)  # each process would draw its own seed
    c = NormalizingFlow(**{**FLOW, "random_state": None}, max_epochs=1).fit(X)
    torch.save(weights(c), out + f".c{rank}.pt")
    results["unseeded_seed"] = c.fit_seed_
    # 4. noise inside a step differs per rank; a slow rank does not hang max_time
    d = NoisyFlow(**{**FLOW, "early_stopping": False}, max_time=0.5, slow_rank=1).fit(X)
    results["noise"] = d.noise
    results["timed_steps"] = d.n_steps_
    torch.save(weights(d), out + f".d{rank}.pt")
    # 5. two optimizers and a gradient penalty (GAN, with its calibration after the loop); Langevin chains (EBM)
    from synthkit.backbones.ebm import EBM
    from synthkit.backbones.gan import GAN
    gan = GAN(generator_dims=(16,), critic_dims=(16,), latent_dim=4, rejection_sampling=True, n_calibration_steps=3,
              n_diagnostic_samples=0, max_epochs=1, batch_size=50, verbose=0, random_state=0).fit(X)
    ebm = EBM(hidden_dims=(16,), n_langevin_steps=3, buffer_size=100, max_epochs=1, batch_size=50, verbose=0,
              random_state=0).fit(X)
    torch.save({"gan": weights(gan), "ebm": weights(ebm)}, out + f".e{rank}.pt")
    results["log_m"] = gan.rejection_log_m_
    # 6. DP-SGD: one Poisson sample for all ranks, noise added once (Opacus' distributed optimizer)
    from shared import private_vae
    dp = private_vae(X)
    torch.save(weights(dp), out + f".p{rank}.pt")
    results["dp"] = [dp.dp_epsilon_, dp.dp_steps_, dp.dp_sample_rate_, dp.dp_noise_multiplier_]
    results["dp_finite"] = bool(np.isfinite(dp.sample(50, random_state=0)).all())
    # 7. different rows on each rank: refused on every rank (no rank left waiting)
    try:
        NormalizingFlow(**FLOW, max_epochs=1).fit(X + rank)
        results["mismatch"] = None
    except ValueError as err:
        results["mismatch"] = str(err)
    with open(out + f".{rank}.json", "w") as f:
        json.dump(results, f)
    dist.destroy_process_group()
''')

SHARED = textwrap.dedent('''
    import time
    import torch
    import torch.distributed as dist
    from synthkit.backbones.flow import NormalizingFlow

    DATA = __file__.replace("shared.py", "data.npy")
    FLOW = dict(flow="maf", hidden_dims=(16,), n_transforms=2, batch_size=45, early_stopping=True,
                n_iter_no_change=50, ema_decay=0.9, verbose=0, random_state=3)

    def private_vae(X):
        import warnings
        from synthkit.backbones.vae import VAE
        from synthkit.privacy import fit_private
        vae = VAE(hidden_dims=(16,), latent_dim=2, max_epochs=2, batch_size=40, learning_rate=1e-2, verbose=0,
                  random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fit_private(vae, X, epsilon=2.0, delta=1e-4, bounds=(-4, 4))

    class NoisyFlow(NormalizingFlow):
        """Records a draw of torch's generator in every step; one rank sleeps."""

        def __init__(self, slow_rank=None, **kw):
            super().__init__(**kw)
            self.slow_rank = slow_rank

        def _training_step(self, x, c, step):
            self.noise = getattr(self, "noise", []) + [float(torch.rand(()))]
            if dist.is_initialized() and dist.get_rank() == self.slow_rank:
                time.sleep(0.02)
            return super()._training_step(x, c, step)
''')


def _data():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 2))
    return np.c_[z[:, 0], 0.8 * z[:, 0] + 0.6 * z[:, 1] ** 2]


def _shared(tmp_path):
    (tmp_path / "shared.py").write_text(SHARED)
    np.save(tmp_path / "data.npy", _data())
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib

        import shared

        return importlib.reload(shared)
    finally:
        sys.path.remove(str(tmp_path))


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    shared = _shared(tmp)
    (tmp / "worker.py").write_text(WORKER)
    out = str(tmp / "out")
    procs = [subprocess.Popen([sys.executable, str(tmp / "worker.py"), str(r), "2", str(tmp / "store"), out],
                              env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for r in range(2)]
    logs = []
    for p in procs:
        try:
            logs.append(p.communicate(timeout=TIMEOUT)[0].decode())
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            pytest.fail("2-process training hung")
    assert all(p.returncode == 0 for p in procs), "\n".join(logs)
    results = [json.loads(pathlib.Path(f"{out}.{r}.json").read_text()) for r in range(2)]

    def load(kind, rank):
        return torch.load(f"{out}.{kind}{rank}.pt")

    return shared, results, load


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_two_processes_match_one_with_the_same_global_batch(two_ranks):
    shared, results, load = two_ranks
    one = NormalizingFlow(**shared.FLOW, max_epochs=2).fit(_data())
    two = load("a", 0)["two"]
    for k, v in one.modules_.state_dict().items():
        torch.testing.assert_close(two[k], v, rtol=1e-4, atol=1e-5)
    # the all-reduced validation loss (early stopping) and the logged means agree with one process
    for h1, h2 in zip(one.history_, results[0]["history"]):
        assert h2["val_loss"] == pytest.approx(h1["val_loss"], rel=1e-4)
        assert h2["nll"] == pytest.approx(h1["nll"], rel=1e-4)
    assert results[0]["history"][-1]["step"] == one.n_steps_ == 2 * 4  # 180 rows / 45: 23 + 22 rows per rank


def test_ranks_agree_bitwise_seeded_or_not(two_ranks):
    _, results, load = two_ranks
    assert _same(load("a", 0)["two"], load("a", 1)["two"])
    assert results[0]["unseeded_seed"] == results[1]["unseeded_seed"]  # random_state=None: rank 0's seed
    assert _same(load("c", 0), load("c", 1))
    assert _same(load("d", 0), load("d", 1))
    def numbers(h):
        return [{k: v for k, v in e.items() if k != "seconds"} for e in h]

    assert numbers(results[0]["history"]) == numbers(results[1]["history"])  # all-reduced logs


def test_gan_and_ebm_ranks_agree_bitwise(two_ranks):
    _, results, load = two_ranks
    e0, e1 = load("e", 0), load("e", 1)
    assert _same(e0["gan"], e1["gan"]) and _same(e0["ebm"], e1["ebm"])
    assert results[0]["log_m"] == results[1]["log_m"]  # the calibration after the loop agrees too


def test_dp_sgd_on_two_processes_spends_what_one_process_spends(two_ranks):
    shared, results, load = two_ranks
    one = shared.private_vae(_data())
    assert results[0]["dp"] == results[1]["dp"] == [one.dp_epsilon_, one.dp_steps_, one.dp_sample_rate_,
                                                    one.dp_noise_multiplier_]
    assert _same(load("p", 0), load("p", 1)) and results[0]["dp_finite"]


def test_resume_of_a_two_process_run_continues_it(two_ranks):
    shared, results, load = two_ranks
    one = NormalizingFlow(**{**shared.FLOW, "max_epochs": 4}).fit(_data())
    four = load("b", 0)["four"]
    assert results[0]["resumed_steps"] == one.n_steps_ == 16
    for k, v in one.modules_.state_dict().items():
        torch.testing.assert_close(four[k], v, rtol=1e-4, atol=1e-5)
    assert _same(four, load("b", 1)["four"])


def test_in_step_noise_differs_per_rank_and_a_slow_rank_stops_with_the_others(two_ranks):
    _, results, _ = two_ranks
    n0, n1 = results[0]["noise"], results[1]["noise"]
    assert len(n0) == len(n1) == results[0]["timed_steps"] == results[1]["timed_steps"] > 0
    assert not set(n0) & set(n1)  # the critic of a GAN would see no duplicate fakes


def test_ranks_given_different_rows_all_refuse(two_ranks):
    _, results, _ = two_ranks
    assert all("different training rows" in (r["mismatch"] or "") for r in results)


def test_torchrun_streams_a_parquet_folder(tmp_path):
    import pandas as pd

    rng = np.random.default_rng(0)
    (tmp_path / "t").mkdir()
    for k in range(2):
        a = rng.normal(size=300)
        pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.1, 300), "c": rng.choice(["x", "y"], 300)}).to_parquet(
            tmp_path / "t" / f"part-{k}.parquet")
    out = tmp_path / "model"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "synthkit.cli", "fit", "tabular", str(tmp_path / "t"), "--out", str(out),
           "--max-epochs", "1", "--quiet", "--param", "hidden_dim=16"]  # unseeded: rank 0's seed for both
    proc = subprocess.run(cmd, env={**_env(), "SYNTHKIT_DIST_TIMEOUT": "60"}, capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the ranks' streamed rows matched
    assert proc.stdout.count("saved") == 1
    assert list(synthkit.load(out).sample(10, random_state=0).columns) == ["a", "b", "c"]


def test_one_process_ranks_change_nothing():
    r = Ranks(1, 0)
    t = torch.arange(5.0)
    assert r.slice(t) is t and r.any(True) and not r.first(False) and r.mean_of_rows(t) == 2.0
    assert Ranks(2, 1).slice(torch.arange(5)).tolist() == [3, 4]  # tensor_split: 3 + 2 rows


def test_torchrun_cli_fit_saves_a_loadable_model(tmp_path):
    out = tmp_path / "model"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "synthkit.cli", "fit", "array", "moons", "--out", str(out), "--backbone", "vae",
           "--max-epochs", "1", "--quiet", "--param", "hidden_dims=[16]"]
    proc = subprocess.run(cmd, env={**_env(), "SYNTHKIT_DIST_TIMEOUT": "60"}, capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=tmp_path, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("saved") == 1  # rank 0 only
    model = synthkit.load(out)
    assert np.isfinite(model.sample(10, random_state=0)).all()
