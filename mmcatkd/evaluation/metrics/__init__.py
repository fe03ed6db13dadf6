from .affinity import affinity
from .calibration import ExpectedCalibrationError, expected_calibration_error
from .cam_iou import (CAMIoU, batch_weighted_iou, cam_iou, cam_masks,
                      mask_overlap)
from .fidelity import (TeacherFidelity, batch_fidelity, fidelity_kl,
                       kl_divergence, prediction_entropy,
                       prediction_mutual_info_score,
                       prediction_mutual_information, top1_agreement)

__all__ = [
    'affinity', 'ExpectedCalibrationError', 'expected_calibration_error',
    'CAMIoU', 'batch_weighted_iou', 'cam_iou', 'cam_masks', 'mask_overlap',
    'TeacherFidelity', 'batch_fidelity', 'fidelity_kl', 'kl_divergence',
    'prediction_entropy', 'prediction_mutual_info_score',
    'prediction_mutual_information', 'top1_agreement'
]
