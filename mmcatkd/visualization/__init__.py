from .cam_figure import cam_figure, classifier_cams

__all__ = ['cam_figure', 'classifier_cams']
