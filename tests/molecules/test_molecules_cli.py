"""The ``synthkit`` command on molecules: fit, sample, design, evaluate."""

import json

import pytest

pytest.importorskip("rdkit")
pytest.importorskip("selfies")

from synthkit.cli import main  # noqa: E402
from synthkit.domains.molecules import cli as molecules_cli  # noqa: E402
from synthkit.domains.molecules.data import load_dataset  # noqa: E402


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("molecules_cli")
    smiles = load_dataset("nci")[:150]
    (folder / "mols.smi").write_text("smiles\n" + "\n".join(smiles[:70] + ["C1CC"] + smiles[70:]) + "\n")
    return folder


def test_fit_sample_design_evaluate(workdir, capsys):
    model, mols = workdir / "model", workdir / "mols.smi"
    with pytest.warns(UserWarning, match="line 72"):
        assert main(["fit", "molecules", str(mols), "--out", str(model), "--max-epochs", "2", "--seed", "0",
                     "--param", "hidden_dim=16", "--param", "embedding_dim=8", "--quiet"]) == 0
    assert (model / "backbone_" / "config.json").exists()

    gen = workdir / "gen.smi"
    assert main(["sample", str(model), "-n", "30", "--out", str(gen), "--seed", "1", "--quiet"]) == 0
    assert len(gen.read_text().splitlines()) == 30

    best = workdir / "best.csv"
    assert main(["design", str(model), "--objective", "qed", "--objective", "sa", "--budget", "24",
                 "--batch-size", "8", "--filter", "pains", "--out", str(best), "--seed", "0", "--quiet"]) == 0
    lines = best.read_text().splitlines()
    assert lines[0] == "rank,smiles,score,call,step,scaffold" and 1 < len(lines) <= 25
    assert "oracle calls" in capsys.readouterr().out

    report = workdir / "report" / "report.html"
    assert main(["evaluate", "--domain", "molecules", str(mols), str(gen), "--report", str(report)]) == 0
    scores = json.loads(report.with_suffix(".json").read_text())
    assert scores["validity"] == 1.0 and 0 <= scores["novelty"] <= 1
    assert "data:image/png;base64" in report.read_text()


def test_evaluate_counts_invalid_lines_against_validity(workdir):
    gen = workdir / "bad_gen.smi"
    gen.write_text("CCO\nC1CC\nc1ccccc1\nnot_smiles\n")
    out = molecules_cli.evaluate(str(workdir / "mols.smi"), str(gen))
    assert out["validity"] == 0.5 and out["n"] == 4


def test_design_rejects_a_model_that_is_not_a_molecule_prior(workdir, tmp_path, capsys):
    import numpy as np

    from synthkit.backbones.vae import VAE

    VAE(hidden_dims=(8,), max_epochs=1, verbose=0).fit(np.random.default_rng(0).normal(size=(20, 2))).save(tmp_path / "vae")
    assert main(["design", str(tmp_path / "vae"), "--objective", "qed", "--out", str(tmp_path / "x.csv")]) == 1
    assert "design needs a model" in capsys.readouterr().err


def test_fit_adapter_takes_bundled_names_and_generator_keys():
    gen = molecules_cli.fit("chembl", backbone=None, params={"representation": "smiles", "max_epochs": 1,
                                                             "hidden_dim": 8, "embedding_dim": 8, "verbose": 0,
                                                             "random_state": 0}, target=None)
    assert gen.representation == "smiles" and gen.backbone_.hidden_dim == 8 and gen.backbone_.random_state == 0


def test_fit_passes_every_generator_parameter_to_the_generator(workdir, tmp_path):
    import synthkit

    model = tmp_path / "kekule"
    assert main(["fit", "molecules", str(workdir / "mols.smi"), "--out", str(model), "--max-epochs", "1",
                 "--param", "representation=kekule_smiles", "--param", "n_randomized=2",
                 "--param", "hidden_dim=16", "--param", "embedding_dim=8", "--quiet"]) == 0
    gen = synthkit.load(model)
    assert gen.representation == "kekule_smiles" and gen.n_randomized == 2 and gen.constrained_decoding
    assert gen.fit_report_["training_strings"] > gen.fit_report_["molecules"]
