"""Procedural data sets: seeded, fast, and carrying the structure they claim (classes, faults)."""

import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from synthkit.domains.audio.datasets import FAULTS, list_datasets, load_dataset, make_machine_sounds, make_words
from synthkit.domains.audio.mel import LogMel

SR, DUR = 8000, 0.25


def mean_log_mel(train, *sets):
    rep = LogMel(sample_rate=SR, n_fft=256, n_mels=40).fit(train)
    return [rep.encode(s).mean(axis=2) for s in (train, *sets)]


def test_words_are_seeded_balanced_and_in_range():
    a = make_words(30, n_classes=10, duration=DUR, sample_rate=SR, random_state=0)
    b = make_words(30, n_classes=10, duration=DUR, sample_rate=SR, random_state=0)
    c = make_words(30, n_classes=10, duration=DUR, sample_rate=SR, random_state=1)
    np.testing.assert_array_equal(a.clips, b.clips)
    assert not np.array_equal(a.clips, c.clips)
    assert a.clips.shape == (30, 2000) and a.clips.dtype == np.float32 and np.abs(a.clips).max() <= 1
    assert np.bincount(a.labels).tolist() == [3] * 10
    assert set(a.info["word"]) == {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    more = make_words(24, n_classes=12, duration=DUR, sample_rate=SR, random_state=0)
    assert len(set(more.info["word"])) == 12  # words past the ten digits come from a fixed vocabulary


def test_word_classes_are_separable_by_a_linear_classifier_on_held_out_speakers():
    train = make_words(200, n_classes=10, duration=DUR, sample_rate=SR, random_state=0)
    test = make_words(100, n_classes=10, duration=DUR, sample_rate=SR, random_state=1)  # new speakers
    f_train, f_test = mean_log_mel(train, test)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    accuracy = clf.fit(f_train, train.labels).score(f_test, test.labels)
    assert accuracy > 0.8, accuracy  # chance is 0.1; measured 0.96
    # the same classifier on shuffled training labels stays near chance: the classes, not the recipe
    shuffled = np.random.default_rng(0).permutation(train.labels)
    assert clf.fit(f_train, shuffled).score(f_test, test.labels) < 0.3


def test_machine_faults_are_detectable_from_normal_clips_alone():
    train = make_machine_sounds(80, n_machines=4, duration=DUR, sample_rate=SR, random_state=0)
    test = make_machine_sounds(160, n_machines=4, fault_fraction=0.5, duration=DUR, sample_rate=SR, random_state=1)
    control = make_machine_sounds(80, n_machines=4, duration=DUR, sample_rate=SR, random_state=2)
    assert train.labels.sum() == 0 and test.labels.sum() == 80
    assert set(test.info["fault"]) == {"none", *FAULTS} and set(test.info["snr_db"]) == {6.0, 0.0, -6.0}
    f_train, f_test, f_control = mean_log_mel(train, test, control)

    def score(feats, ids):  # DCASE-style: distance to each machine's normal clips, in z-units
        out = np.zeros(len(feats))
        for m in range(4):
            ref = f_train[train.info["machine_id"] == m]
            out[ids == m] = (((feats[ids == m] - ref.mean(0)) / (ref.std(0) + 1e-3)) ** 2).mean(1)
        return out

    s = score(f_test, test.info["machine_id"])
    assert roc_auc_score(test.labels, s) > 0.75  # measured 0.85
    for fault in FAULTS:
        sel = np.isin(test.info["fault"], ["none", fault])
        assert roc_auc_score(test.labels[sel], s[sel]) > 0.65, fault  # measured 0.73-0.92
    # control: fresh normal clips score like the normal test clips (AUC near 0.5)
    s_control = score(f_control, control.info["machine_id"])
    normal = s[test.labels == 0]
    auc = roc_auc_score(np.r_[np.zeros(len(normal)), np.ones(len(s_control))], np.r_[normal, s_control])
    assert abs(auc - 0.5) < 0.15, auc
    # and machine IDs sound different from each other
    clf = LogisticRegression(max_iter=3000).fit(f_train, train.info["machine_id"])
    assert clf.score(f_control, control.info["machine_id"]) > 0.9


def test_generation_is_fast_and_vectorized():
    make_words(10, random_state=0), make_machine_sounds(10, random_state=0)  # warm up
    for make in (make_words, make_machine_sounds):
        start = time.process_time()
        clips = make(100, duration=1.0, sample_rate=16000, random_state=0)
        cpu = time.process_time() - start
        assert clips.clips.shape == (100, 16000)
        assert cpu < 1.0, (make.__name__, cpu)  # measured 0.25-0.4 s of CPU


def test_registry_and_bad_arguments():
    assert set(list_datasets()) == {"words", "machines"}
    assert len(load_dataset("machines", 4, sample_rate=SR, duration=DUR)) == 4
    with pytest.raises(ValueError, match="unknown audio data set"):
        load_dataset("speech_commands")
    with pytest.raises(ValueError, match="faults must be a non-empty subset"):
        make_machine_sounds(4, faults=("rust",))
    with pytest.raises(ValueError, match=r"sample_rate must be an integer >= 4000 \(Hz\), got 2000"):
        make_words(4, sample_rate=2000)


def test_words_by_speaker_say_every_word_in_their_own_voice():
    w = make_words(60, n_classes=4, duration=DUR, sample_rate=SR, n_speakers=5, random_state=0)
    counts = np.zeros((5, 4), int)
    np.add.at(counts, (w.info["speaker"], w.labels), 1)
    assert (counts == 3).all()  # every speaker says every word equally often
    f0 = w.info["f0"]
    within = np.mean([f0[w.info["speaker"] == s].std() for s in range(5)])
    assert within < 0.3 * f0.std()  # a speaker's pitch varies little, speakers differ
    plain = make_words(60, n_classes=4, duration=DUR, sample_rate=SR, random_state=0)
    np.testing.assert_array_equal(plain.labels, w.labels)  # same shuffle of the words
    assert "speaker" not in plain.info
    with pytest.raises(ValueError, match="n_speakers"):
        make_words(8, n_speakers=0)
