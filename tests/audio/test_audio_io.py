"""Reading and writing real audio files: round trips, resampling, labels, bad files, atomicity."""

import numpy as np
import pytest
from audio_helpers import N, SR, tone

from synthkit.domains.audio.io import load_audio, write_wav
from synthkit.domains.audio.resample import resampler

PCM16 = 1 / 32768 + 1e-6  # one 16-bit step


def dominant_freq(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / sr)[spec.argmax()]


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_round_trip_keeps_values_within_16_bit_steps(tmp_path, suffix):
    clips = np.stack([tone(440), tone(1000, amp=0.9), -tone(250, amp=0.3)])
    if suffix == ".wav":
        paths = write_wav(clips, tmp_path, SR, names=["a", "b", "c"])
    else:  # write_wav writes WAV only; FLAC (lossless, 16 bit) is written by libsndfile itself
        import soundfile as sf

        paths = [tmp_path / f"{k}.flac" for k in "abc"]
        for p, c in zip(paths, clips):
            sf.write(str(p), c, SR, subtype="PCM_16")
    got = load_audio(tmp_path, sample_rate=SR)
    assert [p.name for p in got.paths] == [p.name for p in paths]
    assert got.sample_rate == SR and all(c.dtype == np.float32 for c in got.clips)
    np.testing.assert_allclose(np.stack(got.clips), clips, atol=PCM16)


def test_ogg_vorbis_is_read_and_keeps_the_tone(tmp_path, write):
    write(tmp_path / "t.ogg", tone(1000.0, n=SR), subtype="VORBIS")  # lossy: compare frequency, not samples
    got = load_audio(tmp_path, sample_rate=SR)
    assert [p.name for p in got.paths] == ["t.ogg"]
    assert abs(dominant_freq(got.clips[0], SR) - 1000.0) <= 1.0


def test_stereo_is_mixed_to_mono_or_kept(tmp_path, write):
    left, right = tone(300), tone(700)
    write(tmp_path / "s.wav", np.stack([left, right], axis=1))
    mono = load_audio(tmp_path / "s.wav", sample_rate=SR)
    np.testing.assert_allclose(mono.clips[0], (left + right) / 2, atol=PCM16)
    both = load_audio(tmp_path / "s.wav", sample_rate=SR, mono=False)
    assert both.clips[0].shape == (2, N)
    np.testing.assert_allclose(both.clips[0][1], right, atol=PCM16)


@pytest.mark.parametrize("orig", [16000, 22050, 44100])
def test_resampling_keeps_a_tones_frequency(tmp_path, write, orig):
    freq = 1234.0
    write(tmp_path / "t.wav", tone(freq, n=orig // 4, sr=orig), sr=orig)
    got = load_audio(tmp_path / "t.wav", sample_rate=SR, duration=0.25)
    assert got.clips.shape == (1, N)  # 0.25 s at the new rate
    assert abs(dominant_freq(got.clips[0], SR) - freq) <= 4.0  # one FFT bin at 0.25 s
    # a tone above the new Nyquist is filtered out, not aliased back in
    write(tmp_path / "hi.wav", tone(5000.0, n=orig // 4, sr=orig), sr=orig)
    hi = load_audio(tmp_path / "hi.wav", sample_rate=SR).clips[0]
    assert np.abs(hi[200:-200]).max() < 0.05
    assert resampler(orig, SR) is resampler(orig, SR)  # one cached kernel per rate pair


def test_native_rate_kept_and_mismatch_named(tmp_path, write):
    write(tmp_path / "a.wav", tone(440), sr=SR)
    assert load_audio(tmp_path, sample_rate=None).sample_rate == SR
    write(tmp_path / "b.wav", tone(440, sr=16000), sr=16000)
    with pytest.raises(ValueError, match=r"b\.wav: 16000 Hz, but .*a\.wav is at 8000 Hz"):
        load_audio(tmp_path, sample_rate=None)


def test_labels_from_pattern_folders_and_csv(tmp_path, write):
    for name in ["3_ann_0.wav", "3_bob_1.wav", "7_ann_2.wav"]:
        write(tmp_path / "flat" / name, tone(440))
    got = load_audio(tmp_path / "flat", sample_rate=SR, labels=r"^(\d+)_")
    assert list(got.labels) == ["3", "3", "7"]
    named = load_audio(tmp_path / "flat", sample_rate=SR, labels=r"_(?P<label>[a-z]+)_")
    assert list(named.labels) == ["ann", "bob", "ann"]

    for cls, k in [("dog", 0), ("dog", 1), ("cat", 0)]:
        write(tmp_path / "tree" / cls / f"{k}.wav", tone(440))
    got = load_audio(tmp_path / "tree", sample_rate=SR, labels="folder")
    assert list(got.labels) == ["cat", "dog", "dog"] and list(got.classes) == ["cat", "dog"]

    csv = tmp_path / "flat" / "meta.csv"
    csv.write_text("file,label\n3_ann_0.wav,yes\n7_ann_2.wav,no\n3_bob_1.wav,yes\n")
    got = load_audio(tmp_path / "flat", sample_rate=SR, labels=csv)
    assert list(got.labels) == ["yes", "yes", "no"]


def test_clips_select_with_their_labels_and_paths(tmp_path, write):
    for name in ["1_a.wav", "2_b.wav", "3_c.wav"]:
        write(tmp_path / name, tone(440, n=N + int(name[0])))  # three lengths: a list of clips
    got = load_audio(tmp_path, sample_rate=SR, labels=r"^(\d)_")
    assert isinstance(got.clips, list)
    part = got[np.array([False, True, True])]
    assert list(part.labels) == ["2", "3"] and [p.name for p in part.paths] == ["2_b.wav", "3_c.wav"]
    assert [len(c) for c in part.clips] == [N + 2, N + 3] and part.to_array(N).shape == (2, N)
    with pytest.raises(ValueError, match="at 8000 Hz, not sample_rate=16000"):
        write_wav(got, tmp_path / "out", 16000)


def test_label_errors_name_the_file(tmp_path, write):
    write(tmp_path / "3_ann.wav", tone(440))
    write(tmp_path / "x_bob.wav", tone(440))
    with pytest.raises(ValueError, match=r"x_bob\.wav: file name does not match"):
        load_audio(tmp_path, labels=r"^(\d+)_")
    with pytest.raises(ValueError, match="has no group"):
        load_audio(tmp_path, labels=r"^\d+_")
    with pytest.raises(ValueError, match=r"3_ann\.wav: labels='folder' needs every file inside a class folder"):
        load_audio(tmp_path, labels="folder")
    csv = tmp_path / "labels.csv"
    csv.write_text("3_ann.wav,a\n")
    with pytest.raises(ValueError, match=r"x_bob\.wav: no label for it in .*labels\.csv"):
        load_audio(tmp_path, labels=str(csv))
    csv.write_text("3_ann.wav,a\nx_bob.wav,b\nmissing.wav,c\n")
    with pytest.raises(ValueError, match=r"labels\.csv: line 3 names 'missing\.wav', which is not a file"):
        load_audio(tmp_path, labels=csv)


def test_bad_files_are_rejected_naming_the_file_and_the_fault(tmp_path, write):
    (tmp_path / "text.wav").write_text("this is not audio\n")
    with pytest.raises(ValueError, match=r"text\.wav: not a readable WAV, FLAC or OGG file"):
        load_audio(tmp_path / "text.wav")

    write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match=r"empty\.wav: the file holds no samples"):
        load_audio(tmp_path / "empty.wav")

    bad = tone(440)
    bad[100] = np.nan
    write(tmp_path / "nan.wav", bad, subtype="FLOAT")  # a float WAV can carry NaN
    with pytest.raises(ValueError, match=r"nan\.wav: contains NaN or infinite samples \(first at sample 100\)"):
        load_audio(tmp_path / "nan.wav")

    write(tmp_path / "short.wav", tone(440, n=100))  # 12.5 ms < one 25 ms frame
    with pytest.raises(ValueError, match=r"short\.wav: 100 samples at 8000 Hz is shorter than one analysis frame"):
        load_audio(tmp_path / "short.wav", sample_rate=SR)

    write(tmp_path / "ch" / "a_mono.wav", tone(440))
    write(tmp_path / "ch" / "b_stereo.wav", np.stack([tone(440)] * 2, axis=1))
    assert len(load_audio(tmp_path / "ch", sample_rate=SR)) == 2  # mono=True mixes both down
    with pytest.raises(ValueError, match=r"b_stereo\.wav: 2 channel\(s\), but .*a_mono\.wav has 1"):
        load_audio(tmp_path / "ch", sample_rate=SR, mono=False)

    (tmp_path / "clip.mp4").write_bytes(b"\0" * 64)
    with pytest.raises(ValueError, match=r"clip\.mp4: unsupported audio file type"):
        load_audio(tmp_path / "clip.mp4")
    with pytest.raises(ValueError, match=r"nothing: no such file"):
        load_audio(tmp_path / "nothing")
    with pytest.raises(ValueError, match="no audio files"):
        load_audio(tmp_path / "ch" / "..", extensions=(".aiff",))


def test_write_is_all_or_nothing(tmp_path):
    old = write_wav([tone(100)], tmp_path, SR, names=["a.wav"])[0]
    before = old.read_bytes()

    def clips_then_crash():  # a sampler that fails on its third clip
        yield tone(440)
        yield tone(880)
        raise RuntimeError("sampler crashed")

    with pytest.raises(RuntimeError, match="sampler crashed"):
        write_wav(clips_then_crash(), tmp_path, SR, names=["a", "b", "c"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"]  # no temp files, no b.wav
    assert old.read_bytes() == before  # the existing a.wav is untouched

    bad = np.stack([tone(440), tone(880)])
    bad[1, 5] = np.inf
    with pytest.raises(ValueError, match=r"b\.wav: clip 1 contains NaN or infinite samples"):
        write_wav(bad, tmp_path, SR, names=["a", "b"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav"] and old.read_bytes() == before

    (tmp_path / "d.wav").mkdir()
    with pytest.raises(ValueError, match=r"d\.wav: a folder is in the way"):
        write_wav(bad[:1], tmp_path, SR, names=["d"])
    with pytest.raises(ValueError, match="same file name"):
        write_wav(bad, tmp_path, SR, names=["x", "x.wav"])
    def endless():
        while True:
            yield tone(440)

    with pytest.raises(ValueError, match="more clips than the 2 names"):
        write_wav(endless(), tmp_path, SR, names=["p", "q"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "d.wav"]
    with pytest.raises(ValueError, match="without folders"):
        write_wav(bad[:1], tmp_path, SR, names=["../x"])

    paths = write_wav(np.stack([tone(440), tone(880)]), tmp_path / "new", SR)
    assert [p.name for p in paths] == ["clip_00000.wav", "clip_00001.wav"]
    # samples outside [-1, 1] are clipped, not wrapped around
    loud = write_wav([np.full(N, 3.0, np.float32)], tmp_path / "loud", SR)[0]
    assert load_audio(loud, sample_rate=SR).clips[0].min() > 0.99


def test_missing_extra_names_synthkit_audio(monkeypatch):
    import sys

    from synthkit.domains.audio.deps import require_soundfile, require_torchaudio

    monkeypatch.setitem(sys.modules, "torchaudio", None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "soundfile", None)
    for require in (require_torchaudio, require_soundfile):
        with pytest.raises(ImportError, match=r"synthkit\[audio\]"):
            require()
