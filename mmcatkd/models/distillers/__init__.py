from .cam_distiller import CAMDistiller

__all__ = ['CAMDistiller']
