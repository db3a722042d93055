"""Audio: read and write clips, turn them into arrays a backbone can learn, and back.

Example:
    >>> from synthkit.domains.audio import make_words, LogMel
    >>> words = make_words(20, n_classes=4, duration=0.25, sample_rate=8000, random_state=0)
    >>> rep = LogMel(sample_rate=8000, n_fft=256, n_mels=40).fit(words)
    >>> rep.encode(words).shape
    (20, 40, 32)
    >>> rep.decode(rep.encode(words[:2])).shape
    (2, 2000)

Modules: ``io`` (:func:`load_audio`, :func:`write_wav`; soundfile, not FFmpeg),
``clips`` (:class:`AudioClips`), ``labels`` (file-name pattern, folder, CSV),
``resample``, ``mel`` (:class:`LogMel`, inverted by Griffin-Lim), ``mulaw``
(:class:`MuLaw` tokens), ``representations`` (the shared base and the registry),
``metrics`` (spectral distances), ``datasets`` (procedural words and machine sounds).
torchaudio and soundfile come with ``pip install 'synthkit[audio]'``; the data sets need
only numpy.
"""
