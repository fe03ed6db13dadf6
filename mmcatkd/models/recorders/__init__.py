from .cam_recorder import CAMRecorder
from .layer_outputs_recorder import LayerOutputsRecorder

__all__ = ['CAMRecorder', 'LayerOutputsRecorder']
