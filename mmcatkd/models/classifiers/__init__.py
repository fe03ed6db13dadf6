from .timm_classifier import (TimmClsHead, TimmFeatureMap, TimmImageClassifier,
                              timm_cam_obstacle, timm_model_cfg)

__all__ = [
    'TimmClsHead', 'TimmFeatureMap', 'TimmImageClassifier',
    'timm_cam_obstacle', 'timm_model_cfg'
]
