"""Quality scores on known cases: mIS, AM score, NDB/K and copying share give their ideal values
for ideal inputs and move the right way for collapsed, noisy or copied ones; evaluate_clips and
its report carry them."""

import numpy as np
import pytest

from audio_helpers import SR
from synthkit.domains.audio import make_words
from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.evaluation import evaluate_clips
from synthkit.domains.audio.quality import (
    am_score,
    copying_share,
    copying_share_expected,
    modified_inception_score,
    ndb_k,
)


def test_modified_inception_score_rewards_confident_varied_posteriors():
    eye = np.eye(4)[np.arange(40) % 4]
    collapsed = np.tile([0.7, 0.1, 0.1, 0.1], (40, 1))  # every clip alike
    assert modified_inception_score(collapsed) == pytest.approx(1.0)
    assert modified_inception_score(eye) > 1e6 > modified_inception_score(0.5 * eye + 0.125)
    with pytest.raises(ValueError, match="probabilities"):
        modified_inception_score(np.ones((3, 1)))


def test_am_score_is_zero_for_certain_clips_in_the_real_proportions():
    eye = np.eye(3)[np.arange(30) % 3]
    assert am_score(eye, eye) == pytest.approx(0.0, abs=1e-9)
    assert am_score(eye, np.full(3, 1 / 3)) == pytest.approx(0.0, abs=1e-9)  # a prior vector works too
    one_class = np.eye(3)[np.zeros(30, int)]
    uncertain = np.full((30, 3), 1 / 3)
    assert am_score(one_class, eye) > 1.0 and am_score(uncertain, eye) == pytest.approx(np.log(3))
    with pytest.raises(ValueError, match="classes"):
        am_score(eye, np.full(4, 0.25))


def test_ndb_k_near_the_test_level_for_one_distribution_high_for_noise():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(600, 4))
    same = ndb_k(real, rng.normal(size=(600, 4)), k=20)
    shifted = ndb_k(real, rng.normal(1.5, 1.0, size=(600, 4)), k=20)
    assert same <= 0.2 and shifted >= 0.6, (same, shifted)
    with pytest.raises(ValueError, match="width"):
        ndb_k(real, real[:, :2])
    with pytest.raises(ValueError, match="k must be"):
        ndb_k(real[:5], real, k=10)


def test_copying_share_as_expected_for_fresh_draws_one_for_copies():
    rng = np.random.default_rng(0)
    train, holdout = rng.normal(size=(300, 3)), rng.normal(size=(100, 3))
    fresh = copying_share(rng.normal(size=(800, 3)), train, holdout)
    copies = copying_share(train[:200] + 1e-3 * rng.normal(size=(200, 3)), train, holdout)
    assert abs(fresh - copying_share_expected(300, 100)) < 0.06 and copies > 0.95, (fresh, copies)
    with pytest.raises(ValueError, match="finite"):
        copying_share(np.full((2, 3), np.nan), train, holdout)


@pytest.fixture(scope="module")
def words():
    real = make_words(96, n_classes=3, duration=0.25, sample_rate=SR, random_state=0)
    holdout = make_words(48, n_classes=3, duration=0.25, sample_rate=SR, random_state=1)
    return real, holdout


def test_evaluate_clips_real_against_itself_and_against_noise(words):
    real, holdout = words
    fresh = make_words(48, n_classes=3, duration=0.25, sample_rate=SR, random_state=2)
    good = evaluate_clips(real, fresh, holdout)
    noise = AudioClips(clips=(0.1 * np.random.default_rng(0).standard_normal((48, 2000))).astype(np.float32),
                       sample_rate=SR, labels=fresh.labels)
    bad = evaluate_clips(real, noise, holdout)
    copied = evaluate_clips(real, real[:48], holdout)
    for key in ("modified_inception_score", "am_score", "ndb_k", "copying_share", "inception_score_real"):
        assert key in good["summary"], key
    assert good["ndb_k"] < bad["ndb_k"] and good["am_score"] < bad["am_score"]
    assert good["modified_inception_score"] > bad["modified_inception_score"]
    expected = good["copying_share_expected"]  # 96 / (96 + 48)
    assert abs(good["copying_share"] - expected) < 0.2 and copied["copying_share"] > 0.95


def test_report_explains_the_new_scores(words, tmp_path):
    from synthkit.domains.audio.report import write_report

    real, holdout = words
    results = evaluate_clips(real, holdout, holdout)
    one = real[real.labels == 0][:3], holdout[holdout.labels == 0][:3]  # few spectrogram images: fast
    page = write_report(results, *one, tmp_path / "r.html").read_text()
    assert "copying_share" in page and "NDB/K: share of k-means bins" in page and "mIS" in page
