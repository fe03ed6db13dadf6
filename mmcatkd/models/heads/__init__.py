from .cam_head import CAMClsHead, class_activation_maps

__all__ = ['CAMClsHead', 'class_activation_maps']
