"""Medical images: load NIfTI / DICOM / PNG / NumPy with their geometry, preprocess reversibly
with MONAI transforms, and build small training sets and lesion ground truth offline.

Example:
    >>> from synthkit.domains.medical import ImagePreprocessor, make_mni152_slices, paint_lesions
    >>> healthy = make_mni152_slices(8, image_size=32, random_state=0)
    >>> healthy.array.shape
    (8, 1, 32, 32)
    >>> prep = ImagePreprocessor(image_size=(32, 32)).fit(healthy)
    >>> sick, masks = paint_lesions(healthy, kind="bright", random_state=1)
    >>> bool(masks.array.any())
    True

Modules: ``imageset`` (:class:`ImageSet`), ``io`` (:func:`load_images`), ``save``
(:func:`save_images`), ``dicom`` (series checks), ``preprocess`` (:class:`ImagePreprocessor`),
``datasets`` (MNI152 slices and volumes, MONAI synthetic shapes), ``lesions`` (:func:`paint_lesions`),
``networks`` (MONAI ``DiffusionModelUNet`` / ``PatchDiscriminator`` as registered synthkit
networks), ``synthesizer`` (:class:`ImageSynthesizer`), ``autoencoder``
(:class:`LatentAutoencoder`, MONAI ``AutoencoderKL``) and ``latent`` (latent diffusion, the
default for 3-D), ``conditioning`` (images generated for given masks, ``mask_mode="condition"``),
``metrics``, ``quality`` (FID / KID on a locally trained ``encoder``, MS-SSIM, PRDC) and ``cli``
(the adapter); anomaly localization: ``anomaly`` (:class:`ImageAnomalyDetector`, methods in
``anomaly_diffusion``, ``anomaly_reconstruction``, ``anomaly_likelihood``), ``noise`` (simplex
noise), ``anomaly_metrics`` and ``baselines`` (:class:`ZScoreMap`, :class:`AutoencoderMap`).
MONAI, nibabel, pydicom and nilearn come with ``pip install 'synthkit[medical]'``.
"""

from synthkit.domains.medical.deps import require_all

require_all()

from synthkit.domains.medical.datasets import make_mni152_slices, make_mni152_volumes, make_synthetic_shapes  # noqa: E402
from synthkit.domains.medical.imageset import ImageSet  # noqa: E402
from synthkit.domains.medical.io import load_images  # noqa: E402
from synthkit.domains.medical.lesions import LESION_KINDS, paint_lesions  # noqa: E402
from synthkit.domains.medical.preprocess import ImagePreprocessor  # noqa: E402
from synthkit.domains.medical.save import save_images  # noqa: E402
from synthkit.domains.medical import networks  # noqa: E402,F401  (registers the MONAI networks)
from synthkit.domains.medical.synthesizer import ImageSynthesizer  # noqa: E402
from synthkit.domains.medical.autoencoder import LatentAutoencoder  # noqa: E402
from synthkit.domains.medical.anomaly import ImageAnomalyDetector  # noqa: E402
from synthkit.domains.medical.baselines import AutoencoderMap, ZScoreMap  # noqa: E402

__all__ = ["LESION_KINDS", "AutoencoderMap", "ImageAnomalyDetector", "ImagePreprocessor", "ImageSet", "ImageSynthesizer",
           "LatentAutoencoder", "ZScoreMap", "load_images", "make_mni152_slices", "make_mni152_volumes",
           "make_synthetic_shapes", "paint_lesions", "save_images"]
