from .cam_figure import cam_figure, classifier_cams
from .topk_cams import topk_cam_figure

__all__ = ['cam_figure', 'classifier_cams', 'topk_cam_figure']
