from .cat_loss import CATLoss, binarize_cams, check_cam_resolution

__all__ = ['CATLoss', 'binarize_cams', 'check_cam_resolution']
