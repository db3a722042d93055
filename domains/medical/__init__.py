"""Medical images: load NIfTI / DICOM / PNG / NumPy with their geometry, preprocess reversibly
with MONAI transforms, and build small training sets and lesion ground truth offline.

Modules: ``imageset`` (:class:`ImageSet`), ``io`` (:func:`load_images`), ``save``
(:func:`save_images`), ``dicom`` (series checks), ``preprocess`` (:class:`ImagePreprocessor`),
``datasets`` (MNI152 slices, MONAI synthetic shapes), ``lesions`` (:func:`paint_lesions`).
MONAI, nibabel, pydicom and nilearn come with ``pip install 'synthkit[medical]'``.
"""

from synthkit.domains.medical.deps import require_all

require_all()

from synthkit.domains.medical.imageset import ImageSet  # noqa: E402
from synthkit.domains.medical.io import load_images  # noqa: E402
from synthkit.domains.medical.preprocess import ImagePreprocessor  # noqa: E402
from synthkit.domains.medical.save import save_images  # noqa: E402

__all__ = ["ImagePreprocessor", "ImageSet", "load_images", "save_images"]
