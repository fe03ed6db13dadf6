from .cls_token_projector import CLSTokenProjector

__all__ = ['CLSTokenProjector']
