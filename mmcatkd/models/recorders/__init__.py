from .cam_recorder import CAMRecorder, classifier_of, find_module
from .layer_outputs_recorder import LayerOutputsRecorder

__all__ = [
    'CAMRecorder', 'classifier_of', 'find_module', 'LayerOutputsRecorder'
]
