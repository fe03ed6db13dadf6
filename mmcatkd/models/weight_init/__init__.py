from .timm_vit_init import TimmViTInit

__all__ = ['TimmViTInit']
