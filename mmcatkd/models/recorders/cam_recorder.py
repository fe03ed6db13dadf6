"""Records class activation maps through MMRazor's recorder mechanism."""
from typing import Any, Optional, Tuple

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import nn

from ..heads import class_activation_maps
from ..losses import check_cam_resolution


def find_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name`` (dotted path), with a clear error."""
    try:
        return model.get_submodule(name)
    except AttributeError:
        raise ValueError(
            f'{type(model).__name__} has no submodule "{name}".') from None


def classifier_of(head: nn.Module) -> nn.Linear:
    """The linear classifier (K, C) whose weights turn features into CAMs.

    ``CAMClsHead`` and ``LinearClsHead`` (used after a GAP neck) keep it as
    ``head.fc``.
    """
    fc = getattr(head, 'fc', None)
    if not isinstance(fc, nn.Linear):
        raise TypeError(
            f'{type(head).__name__} cannot produce class activation maps: '
            'CAT-KD needs a head whose classifier is one nn.Linear `fc` '
            'applied to the pooled last feature map (CAMClsHead, or '
            'GlobalAveragePooling + LinearClsHead).')
    return fc


@TASK_UTILS.register_module()
class CAMRecorder(ModuleOutputsRecorder):
    """Records the CAMs (N, K, H, W) of a classifier during its forward.

    Hooks ``source`` (the backbone), takes its last output, the map the
    classifier pools, and applies the head's FC weights to it as a 1x1
    convolution (CAT-KD, Eq. 2). Works for ``CAMClsHead`` models and for
    model-zoo models with a GAP neck and ``LinearClsHead``.

    Args:
        source (str): the module whose last output feeds the classifier.
            Defaults to 'backbone'.
        head (str): the module holding the classifier ``fc``.
            Defaults to 'head'.
        output_size (int, optional): pool the feature map to (r, r) before the
            1x1 conv (equal to pooling the full CAMs, cheaper). Defaults to
            None (full-resolution CAMs).
    """

    def __init__(self,
                 source: str = 'backbone',
                 head: str = 'head',
                 output_size: Optional[int] = None) -> None:
        super().__init__(source)
        self.head_name = head
        self.output_size = output_size
        self.classifier: Optional[nn.Linear] = None

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Find the classifier and hook the source module."""
        assert model is not None, 'model can not be None.'
        self.classifier = classifier_of(find_module(model, self.head_name))
        find_module(model, self.source).register_forward_hook(
            self.forward_hook)

    def forward_hook(self, module: nn.Module, inputs: Tuple,
                     outputs: Any) -> None:
        """Compute and store the CAMs of the source's last output."""
        if not self.recording:
            return
        feat = outputs[-1] if isinstance(outputs, (tuple, list)) else outputs
        if self.output_size is not None:
            cam_shape = (feat.shape[0], self.classifier.out_features,
                         *feat.shape[2:])
            check_cam_resolution(self.output_size, cam_shape)
        self.data_buffer.append(
            class_activation_maps(feat, self.classifier.weight,
                                  self.output_size))
