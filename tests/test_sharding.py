"""Sharded sampling (synthkit.sharding): parts plus a manifest, identical whatever the worker
count, resumable, ranges for schedulers; the CLI's --workers / --shards / --shard-size.
Every domain's parts are checked against its single-file draw in the conformance suite
(synthkit.testing.domains.check_sharded_sample)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import synthkit
from synthkit.cli import main
from synthkit.sharding import digest, parse_range, sample_shards


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(200, 4))
    gen = synthkit.make_generator("vae", max_epochs=2, hidden_dims=(16,), random_state=0).fit(X)
    folder = tmp_path_factory.mktemp("model") / "vae"
    gen.save(folder)
    return folder


def parts(folder):
    return sorted(p.name for p in folder.glob("part-*"))


def read_parts(folder) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(folder / name) for name in parts(folder)], ignore_index=True)


def test_parts_read_in_order_are_the_single_file_draw(model_dir, tmp_path):
    done = sample_shards(model_dir, tmp_path / "draw", 1050, seed=7, shard_rows=400, batch_size=100)
    assert (done["n_shards"], done["written"], done["rows"], done["complete"]) == (3, 3, 1050, True)
    single = tmp_path / "single.parquet"
    main(["sample", str(model_dir), "-n", "1050", "--seed", "7", "--batch-size", "100", "--out", str(single),
          "--quiet"])
    pd.testing.assert_frame_equal(read_parts(tmp_path / "draw"), pd.read_parquet(single))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "draw"), pd.read_parquet(single))  # "_" files skipped
    manifest = json.loads((tmp_path / "draw" / "_manifest.json").read_text())
    assert manifest["rows"] == 1050 and manifest["seed"] == 7
    assert [p["rows"] for p in manifest["parts"]] == [400, 400, 250]
    assert [p["sha256"] for p in manifest["parts"]] == [digest(tmp_path / "draw" / n) for n in parts(tmp_path / "draw")]
    assert [f["name"] for f in manifest["schema"]] == ["x0", "x1", "x2", "x3"]


def test_two_workers_write_the_same_bytes_as_one(model_dir, tmp_path):
    one = tmp_path / "one"
    two = tmp_path / "two"
    sample_shards(model_dir, one, 900, seed=3, shard_rows=200, batch_size=100, workers=1)
    done = sample_shards(model_dir, two, 900, seed=3, shard_rows=200, batch_size=100, workers=2)
    assert done["written"] == 5 and done["complete"]
    assert [digest(one / n) for n in parts(one)] == [digest(two / n) for n in parts(two)]
    assert (one / "_manifest.json").read_bytes() == (two / "_manifest.json").read_bytes()


def test_ranges_resume_and_finish_with_the_folders_seed(model_dir, tmp_path):
    """An unseeded first range draws the seed and records it; later calls (other machines,
    a restart) take it from _plan.json; a killed writer's temporary file is cleared."""
    out = tmp_path / "draw"
    first = sample_shards(model_dir, out, 500, shard_rows=100, batch_size=50, shards=(0, 2))
    assert (first["written"], first["complete"], first["manifest"]) == (2, False, None)
    assert not (out / "_manifest.json").exists()
    seed = json.loads((out / "_plan.json").read_text())["seed"]
    (out / ".part-00002.parquet.abc.tmp").write_bytes(b"half a part")
    rest = sample_shards(model_dir, out, 500, shard_rows=100, batch_size=50, shards=(1, None))
    assert (rest["kept"], rest["written"], rest["complete"]) == (1, 3, True)
    assert not list(out.glob(".part-*"))
    fresh = sample_shards(model_dir, tmp_path / "fresh", 500, seed=seed, shard_rows=100, batch_size=50)
    assert fresh["complete"]
    assert (out / "_manifest.json").read_bytes() == (tmp_path / "fresh" / "_manifest.json").read_bytes()


def test_shard_size_rounds_up_to_whole_batches(model_dir, tmp_path):
    done = sample_shards(model_dir, tmp_path / "d", 300, seed=0, shard_rows=120, batch_size=50)
    plan = json.loads((tmp_path / "d" / "_plan.json").read_text())
    assert plan["shard_rows"] == 150 and done["n_shards"] == 2


def test_a_folder_of_another_draw_is_refused(model_dir, tmp_path):
    out = tmp_path / "draw"
    sample_shards(model_dir, out, 300, seed=1, shard_rows=100, batch_size=50, shards=(0, 1))
    with pytest.raises(ValueError, match="rows: the folder has 300, this call 400"):
        sample_shards(model_dir, out, 400, seed=1, shard_rows=100, batch_size=50)
    with pytest.raises(ValueError, match="seed: the folder has 1, this call 2"):
        sample_shards(model_dir, out, 300, seed=2, shard_rows=100, batch_size=50)
    other = tmp_path / "data"
    other.mkdir()
    (other / "mine.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match="holds no _plan.json"):
        sample_shards(model_dir, other, 300, seed=1)
    assert (other / "mine.csv").read_text() == "a\n1\n"


@pytest.mark.parametrize("shards, message", [((3, 5), "parts 0 to 2"), ((2, 2), "0 <= a < b <= 3")])
def test_bad_ranges_are_refused(model_dir, tmp_path, shards, message):
    with pytest.raises(ValueError, match=message):
        sample_shards(model_dir, tmp_path / "d", 300, seed=1, shard_rows=100, batch_size=50, shards=shards)


def test_a_bad_label_is_refused_before_anything_is_written(model_dir, tmp_path):
    with pytest.raises(ValueError, match=r"not class-conditional"):
        sample_shards(model_dir, tmp_path / "d", 100, seed=1, shard_rows=50, batch_size=50, label="a")
    assert not (tmp_path / "d").exists()  # no plan that a corrected call would then disagree with


def test_parse_range():
    assert parse_range("0:10") == (0, 10) and parse_range(":4") == (None, 4) and parse_range("3:") == (3, None)
    for bad in ("3", "a:b", "1:2:3"):
        with pytest.raises(ValueError, match="--shards must look like a:b"):
            parse_range(bad)


@pytest.mark.parametrize("bad", [{"n": 0}, {"workers": 0}, {"batch_size": -1}, {"shard_rows": 1.5}])
def test_bad_counts_are_refused(model_dir, tmp_path, bad):
    kwargs = {"n": 10, **bad}
    n = kwargs.pop("n")
    with pytest.raises(ValueError, match=f"{next(iter(bad))} must be a positive integer"):
        sample_shards(model_dir, tmp_path / "d", n, **kwargs)


def test_command_line_writes_parts_with_workers(model_dir, tmp_path, capsys):
    out = tmp_path / "cli"
    main(["sample", str(model_dir), "-n", "600", "--seed", "4", "--batch-size", "100", "--shard-size", "200",
          "--shards", "0:2", "--out", str(out), "--quiet"])
    assert "wrote 2 parts (400 rows), kept 0, of 3" in capsys.readouterr().out
    main(["sample", str(model_dir), "-n", "600", "--seed", "4", "--batch-size", "100", "--shard-size", "200",
          "--workers", "2", "--out", str(out), "--quiet"])
    assert "kept 2, of 3" in capsys.readouterr().out and (out / "_manifest.json").exists()
    assert len(read_parts(out)) == 600
