from .cam_recorder import CAMRecorder, classifier_of, find_module

__all__ = ['CAMRecorder', 'classifier_of', 'find_module']
