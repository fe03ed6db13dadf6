"""Records class activation maps through MMRazor's recorder mechanism."""
from typing import Any, Optional, Tuple

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.registry import TASK_UTILS
from torch import nn

from ...utils import find_module
from ..cams import classifier_of, head_cams


@TASK_UTILS.register_module()
class CAMRecorder(ModuleOutputsRecorder):
    """Records the CAMs (N, K, H, W) of a classifier during its forward.

    Hooks ``source`` (the backbone) and turns its outputs into CAMs with the
    head's ``fc`` as a 1x1 convolution on the last map (CAT-KD, Eq. 2,
    :func:`mmcatkd.models.cams.head_cams`), for ``CAMClsHead`` and for
    model-zoo models with a GAP neck and ``LinearClsHead`` alike.
    Any other head (stacked MLP, class-token, BatchNorm or two-branch heads)
    raises ``TypeError`` when the recorder is prepared, naming the head and
    why (:func:`mmcatkd.models.cams.cam_obstacle`); docs/cam_compatibility.md
    lists MMPretrain's families.

    Args:
        source (str): the module whose outputs feed the head.
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
        self.head: Optional[nn.Module] = None
        self.classifier: Optional[nn.Linear] = None

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Find the head (checking it has a classifier) and hook the source."""
        assert model is not None, 'model can not be None.'
        self.head = find_module(model, self.head_name)
        self.classifier = classifier_of(self.head)
        find_module(model,
                    self.source).register_forward_hook(self.forward_hook)

    def forward_hook(self, module: nn.Module, inputs: Tuple,
                     outputs: Any) -> None:
        """Compute and store the CAMs of the source's outputs."""
        if self.recording:
            self.data_buffer.append(
                head_cams(self.head, outputs, self.output_size))
