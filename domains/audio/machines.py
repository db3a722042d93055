"""Machine sounds with injected faults, for anomalous-sound detection with ground truth.

Each machine ID is a fixed (seeded) machine: a shaft turning at 18-45 Hz whose harmonics
carry most of the sound, mains hum at twice 50 or 60 Hz, a fan (blade-pass tones and
low-passed broadband noise) and a gear mesh (teeth x shaft rate, amplitude-modulated by
the shaft, hence sidebands). A clip adds small speed wander, level jitter and factory-like
background noise at one of the MIMII signal-to-noise ratios (6, 0, -6 dB).

Faults follow the vibration-analysis textbook signatures (Randall 2011):
``"bearing"`` -- a local defect struck at the outer-race rate (3-5.2 x shaft), each impact
ringing a 2.5-3.8 kHz structural resonance; ``"unbalance"`` -- the 1 x shaft component
grows 3-5 x and modulates the whole sound; ``"speed"`` -- the shaft runs 6-12 % off its
nominal rate, moving every harmonic; ``"leak"`` -- a band of hiss high in the spectrum.
As in DCASE 2020 Task 2, training sets are normal (``fault_fraction=0``); test sets mix in
faulty clips, and a detector must find them from normal clips alone.

References:
    Purohit et al., "MIMII Dataset: Sound dataset for malfunctioning industrial machine
    investigation and inspection", DCASE 2019 Workshop (arXiv:1909.09347).
    Koizumi et al., DCASE 2020 Challenge Task 2 description (arXiv:2006.05822).
    Randall, "Vibration-based Condition Monitoring", Wiley 2011 (chs. 2 and 5).
"""

from __future__ import annotations

import numpy as np

from synthkit.domains.audio.clips import AudioClips
from synthkit.domains.audio.dsp import normalize_rms
from synthkit.validation import check_count, check_fraction, check_positive

FAULTS = ("bearing", "unbalance", "speed", "leak")
SNR_DB = (6.0, 0.0, -6.0)  # MIMII's mixing levels
N_HARMONICS = 8
MACHINE_SEED = 7000
MAX_ORDER = 42  # highest shaft order: gear teeth (<= 41) + 1 sideband


def machine_profiles(n_machines: int) -> dict[str, np.ndarray]:
    """The fixed parameters of machines ``0 .. n_machines - 1`` (one row each; seeded by ID)."""
    rows = []
    for mid in range(n_machines):  # one small seeded draw per machine, not per sample
        r = np.random.default_rng(MACHINE_SEED + mid)
        h = np.arange(1, N_HARMONICS + 1)
        rows.append({
            "f_rot": r.uniform(18, 45), "mains": r.choice([50.0, 60.0]),
            "harmonics": h ** -r.uniform(0.6, 1.4) * r.uniform(0.5, 1.5, N_HARMONICS),
            "hum": r.uniform(0.1, 0.5), "blades": float(r.choice([5, 7, 9, 11, 13])), "blade_amp": r.uniform(0.2, 0.6),
            "teeth": float(r.integers(17, 42)), "gear_amp": r.uniform(0.1, 0.4), "gear_mod": r.uniform(0.2, 0.6),
            "fan_level": r.uniform(0.3, 0.8), "fan_cutoff": r.uniform(800, 2500),
            "bearing_ratio": r.uniform(3.0, 5.2), "resonance": r.uniform(2500, 3800),
        })
    return {k: np.array([row[k] for row in rows]) for k in rows[0]}


def _orders(cycles: np.ndarray, amps: np.ndarray, rng, table: int = 2048) -> np.ndarray:
    """``sum_h amps[:, h] sin(2 pi h cycles + random phase)`` by one wavetable per clip.

    Everything locked to a rotation is a periodic function of its angle (order analysis), so
    instead of one sine per harmonic, each clip's waveform over one turn is built by an
    inverse FFT of its order amplitudes and read at the angle with linear interpolation.
    """
    n, n_orders = amps.shape
    coeffs = -0.5j * table * amps * np.exp(2j * np.pi * rng.random((n, n_orders)))
    wave = np.fft.irfft(coeffs, n=table, axis=1).astype(np.float32)
    wave = np.concatenate([wave, wave[:, :1]], axis=1)  # wrap-around sample for interpolation
    pos = (cycles % 1.0) * table
    i0 = pos.astype(np.int64)
    w = (pos - i0).astype(np.float32)
    lo, hi = np.take_along_axis(wave, i0, axis=1), np.take_along_axis(wave, i0 + 1, axis=1)
    return lo + w * (hi - lo)


def _unit_gain(gain: np.ndarray) -> np.ndarray:
    """Scale amplitude spectra ``(n, bins)`` so that noise shaped by each has unit RMS."""
    return gain / np.sqrt(np.maximum((gain ** 2).mean(axis=1, keepdims=True), 1e-30))


def _band(freqs, centre, width):
    return np.exp(-0.5 * ((freqs - centre) / width) ** 2)


def make_machine_sounds(n_samples: int = 100, *, n_machines: int = 4, fault_fraction: float = 0.0,
                        faults=FAULTS, snr_db=SNR_DB, duration: float = 1.0, sample_rate: int = 16000,
                        random_state=None) -> AudioClips:
    """Seeded machine clips, normal and faulty, as an :class:`AudioClips`.

    Args:
        n_samples: number of clips (machine IDs are balanced).
        n_machines: number of machine IDs.
        fault_fraction: share of clips with a fault (0 for a DCASE-style training set).
        faults: the fault types drawn, uniformly, for faulty clips (from :data:`FAULTS`).
        snr_db: machine-to-background ratios, one drawn per clip.
        duration, sample_rate: clip length (s) and rate (Hz).
        random_state: seed or ``numpy.random.Generator``.

    Returns:
        ``clips`` ``(n_samples, samples)`` float32 at RMS 0.1; ``labels`` 1 for a faulty
        clip, 0 for normal; ``info`` with ``machine_id``, ``fault`` (``"none"`` or a fault
        name) and ``snr_db``.

    Example:
        >>> m = make_machine_sounds(8, n_machines=2, fault_fraction=0.5, sample_rate=8000, random_state=0)
        >>> m.clips.shape, int(m.labels.sum()), sorted(set(m.info["machine_id"].tolist()))
        ((8, 8000), 4, [0, 1])
    """
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown or not faults:
        raise ValueError(f"faults must be a non-empty subset of {FAULTS}, got {tuple(faults)}.")
    check_count("n_samples", n_samples)
    check_count("n_machines", n_machines)
    check_fraction("fault_fraction", fault_fraction, zero_ok=True, one_ok=True)
    check_positive("duration", duration, unit="seconds")
    check_count("sample_rate", sample_rate, 4000, unit="Hz")
    rng = np.random.default_rng(random_state)
    n, length, nyq = int(n_samples), int(round(duration * sample_rate)), sample_rate / 2
    mid = rng.permutation(np.arange(n) % n_machines)
    faulty = rng.permutation(np.arange(n) < round(fault_fraction * n))
    fault = np.where(faulty, np.array(faults)[rng.integers(len(faults), size=n)], "none")
    snr = np.asarray(snr_db, dtype=float)[rng.integers(len(snr_db), size=n)]
    p = {k: v[mid] for k, v in machine_profiles(n_machines).items()}
    is_ = {name: (fault == name)[:, None] for name in FAULTS}
    t = np.arange(length) / sample_rate

    # shaft speed: nominal, jittered per clip, wandering slowly; "speed" faults run 6-12 % off
    shift = rng.choice([-1.0, 1.0], n) * rng.uniform(0.06, 0.12, n)
    f_rot = p["f_rot"] * (1 + 0.004 * rng.standard_normal(n)) * np.where(fault == "speed", 1 + shift, 1.0)
    speed = f_rot[:, None] * (1 + 0.002 * np.sin(2 * np.pi * (0.5 * t + rng.random((n, 1)))))
    shaft = np.cumsum(speed, axis=1) / sample_rate  # shaft angle in cycles, (n, samples)

    # shaft-locked tones as orders of the shaft: harmonics, fan blade-pass, gear mesh and its sidebands
    rows = np.arange(n)
    jitter = np.exp(0.1 * rng.standard_normal((n, N_HARMONICS + 2)))
    order_amps = np.zeros((n, MAX_ORDER + 1))
    order_amps[:, 1:N_HARMONICS + 1] = p["harmonics"] * jitter[:, :N_HARMONICS]
    order_amps[:, 1] *= np.where(fault == "unbalance", rng.uniform(3, 5, n), 1.0)
    blades, teeth = p["blades"].astype(int), p["teeth"].astype(int)
    order_amps[rows, blades] += p["blade_amp"] * jitter[:, N_HARMONICS]
    order_amps[rows, 2 * blades] += p["blade_amp"] * jitter[:, N_HARMONICS] / 2
    gear = p["gear_amp"] * jitter[:, N_HARMONICS + 1]
    order_amps[rows, teeth] += gear
    for side in (-1, 1):  # amplitude modulation by the shaft: sidebands at teeth -/+ 1
        order_amps[rows, teeth + side] += gear * p["gear_mod"] / 2
    order_amps[np.arange(MAX_ORDER + 1) * f_rot[:, None] >= 0.9 * nyq] = 0.0  # nothing above Nyquist
    x = _orders(shaft, order_amps, rng)
    hum_amps = np.zeros((n, 7))
    hum_amps[:, [2, 4, 6]] = p["hum"][:, None] / np.array([1, 2, 3])
    x += _orders(p["mains"][:, None] * t, hum_amps, rng)  # hum at 2, 4, 6 x mains
    am = rng.uniform(0.2, 0.4, (n, 1)) * np.sin(2 * np.pi * shaft).astype(np.float32)
    x *= np.where(is_["unbalance"], 1 + am, 1.0)
    tonal_rms = np.sqrt((order_amps ** 2).sum(axis=1) / 2 + (hum_amps ** 2).sum(axis=1) / 2)[:, None]
    fan_rms = tonal_rms * p["fan_level"][:, None]
    machine_rms = np.sqrt(tonal_rms ** 2 + fan_rms ** 2)

    # bearing: impacts at the outer-race rate, each ringing a damped resonance (FFT convolution)
    b = np.flatnonzero(fault == "bearing")
    if len(b):
        strikes = np.diff(np.floor(p["bearing_ratio"][b, None] * shaft[b] + rng.random((len(b), 1))),
                          axis=1, prepend=0) > 0
        strikes = strikes * rng.uniform(0.6, 1.0, (len(b), length))
        tk = np.arange(int(0.01 * sample_rate)) / sample_rate
        ring = np.exp(-tk / 0.0015) * np.sin(2 * np.pi * np.minimum(p["resonance"][b], 0.75 * nyq)[:, None] * tk)
        size = length + len(tk)
        impacts = np.fft.irfft(np.fft.rfft(strikes, size) * np.fft.rfft(ring, size), size)[:, :length]
        x[b] += normalize_rms(impacts + 1e-12, 1.0) * machine_rms[b] * 10 ** (rng.uniform(-10, -4, (len(b), 1)) / 20)

    # noise, drawn once with the summed spectrum of its independent parts: the fan (low-passed),
    # a leak (a band of hiss high up; faulty clips only) and the factory background (pink) at the SNR
    freqs = np.fft.rfftfreq(length, 1 / sample_rate)
    power = (fan_rms * _unit_gain(1 / (1 + (freqs / p["fan_cutoff"][:, None]) ** 2))) ** 2
    power += (machine_rms * 10 ** (-snr[:, None] / 20) * _unit_gain(1 / np.sqrt(np.maximum(freqs, 20.0)[None])))**2
    leak = machine_rms * 10 ** (rng.uniform(-10, -4, (n, 1)) / 20) * is_["leak"]
    power += (leak * _unit_gain(_band(freqs, rng.uniform(0.45, 0.7, (n, 1)) * nyq, 0.08 * nyq))) ** 2
    white = np.fft.rfft(rng.standard_normal((n, length), dtype=np.float32), axis=1)
    x += np.fft.irfft(white * np.sqrt(power).astype(np.float32), n=length, axis=1)
    clips = np.clip(normalize_rms(x, 0.1), -1, 1).astype(np.float32)
    info = {"machine_id": mid, "fault": fault, "snr_db": snr}
    return AudioClips(clips=clips, sample_rate=int(sample_rate), labels=faulty.astype(np.int64), info=info)
