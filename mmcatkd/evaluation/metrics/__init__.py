from .affinity import affinity
from .calibration import ExpectedCalibrationError, expected_calibration_error
from .cam_iou import CAMIoU, cam_iou, cam_masks, mask_overlap
from .fidelity import (TeacherFidelity, kl_divergence, prediction_entropy,
                       top1_agreement)

__all__ = [
    'affinity', 'ExpectedCalibrationError', 'expected_calibration_error',
    'CAMIoU', 'cam_iou', 'cam_masks', 'mask_overlap',
    'TeacherFidelity', 'kl_divergence', 'prediction_entropy', 'top1_agreement'
]
