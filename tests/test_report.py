"""The HTML report: self-contained, every section there, worst columns first, JSON beside it."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from synthkit.metrics import evaluate
from synthkit.metrics.report import MAX_MARGINALS, write_report


def draw(n, seed, n_extra=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    df = pd.DataFrame(
        {
            "x": x,
            "y": x + rng.normal(size=n),
            "c": np.where(x > 0, "pos", "neg"),
            "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 99, n), unit="D"),
        }
    )
    for j in range(n_extra):
        df[f"z{j}"] = rng.normal(size=n)
    return df


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    real, holdout = draw(200, 0), draw(200, 1)
    synth = draw(200, 2).assign(y=lambda d: d["y"] + 2.0)  # y is the worst column
    results = evaluate(real, synth, holdout=holdout, target="c", dp={"epsilon": 2.0, "delta": 1e-5},
                       sections=("fidelity", "utility", "privacy"))
    path = write_report(results, real, synth, tmp_path_factory.mktemp("r") / "out" / "report.html")
    return results, path


def test_report_is_self_contained_html_with_every_section(report):
    results, path = report
    page = path.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for heading in ("Summary", "Columns", "Relations between columns", "Utility", "Privacy"):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("data:image/png;base64,") >= 3  # marginals, heat maps, DCR histogram
    assert not re.search(r"(src|href)=['\"]https?://", page)  # nothing fetched from the web
    assert "ε = 2.000" in page


def test_worst_column_is_drawn_first(report):
    results, path = report
    page = path.read_text()
    table = page[page.index("All column scores"):]
    assert table.index("<td>y</td>") < table.index("<td>x</td>")


def test_json_beside_the_report_matches_results(report):
    results, path = report
    saved = json.loads(path.with_suffix(".json").read_text())
    assert saved == json.loads(json.dumps(results))
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]  # atomic writes leave no temp files


def test_many_columns_are_capped(tmp_path):
    real, synth = draw(60, 0, n_extra=30), draw(60, 1, n_extra=30)
    results = evaluate(real, synth, sections=("fidelity",))
    page = write_report(results, real, synth, tmp_path / "wide.html").read_text()
    n_cols = len(results["fidelity"]["column_shapes"])
    assert f"({n_cols - MAX_MARGINALS} better columns not drawn)" in page
    assert "Shown: the 30 columns with the worst pair trends" in page


def test_rejects_a_json_path_and_foreign_results(tmp_path):
    with pytest.raises(ValueError, match="json"):
        write_report({"summary": {}, "data": {}}, draw(5, 0), draw(5, 1), tmp_path / "r.json")
    with pytest.raises(ValueError, match="evaluate"):
        write_report({"auc": 0.5}, draw(5, 0), draw(5, 1), tmp_path / "r.html")
