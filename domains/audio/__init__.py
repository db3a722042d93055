"""Audio: read and write clips, turn them into tensors a backbone can learn and back.

torchaudio and soundfile come with ``pip install 'synthkit[audio]'``.
"""
