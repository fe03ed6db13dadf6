from .cam_head import CAMClsHead

__all__ = ['CAMClsHead']
