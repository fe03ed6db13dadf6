"""Records the outputs of several layers of one ModuleList as one list."""
from typing import Any, List, Optional, Sequence

from mmrazor.models.task_modules.recorder import ModuleOutputsRecorder
from mmrazor.models.task_modules.recorder.base_recorder import BaseRecorder
from mmrazor.registry import TASK_UTILS
from torch import nn

from ...utils import find_module
from ...utils.errors import ConfigError


@TASK_UTILS.register_module()
class LayerOutputsRecorder(BaseRecorder):
    """The outputs of the layers ``indices`` of ``source``, as one list.

    One ``ModuleOutputsRecorder`` per layer, on ``f'{source}.{i}'``; a record
    is the list of their records, in the order of ``indices``, so a loss that
    compares n paired layers gets all of them through one forward mapping
    (and a connector on it sees the whole list).

    For MMPretrain's ``VisionTransformer``, ``source='backbone.layers'``
    gives the block outputs (B, 1+P, C) before the final norm (``ln1``
    normalises the last block's output outside ``layers``).

    Args:
        source (str): a ModuleList (or Sequential) of the model.
        indices (Sequence[int]): the recorded layers, 0 <= i < len(source).
    """

    def __init__(self, source: str, indices: Sequence[int]) -> None:
        super().__init__(source)
        self.indices = tuple(indices)
        if not self.indices:
            raise ConfigError(f'LayerOutputsRecorder on {source} needs at '
                              'least one layer index.')
        self.layer_recorders = [
            ModuleOutputsRecorder(f'{source}.{index}')
            for index in self.indices
        ]

    def prepare_from_model(self, model: Optional[nn.Module] = None) -> None:
        """Check the indices against ``source`` and hook each layer."""
        layers = find_module(model, self.source)
        missing = [i for i in self.indices if not 0 <= i < len(layers)]
        if missing:
            raise ConfigError(
                f'{self.source} of {type(model).__name__} has {len(layers)} '
                f'layers: indices {missing} do not exist. Choose indices in '
                f'0..{len(layers) - 1} for this model.')
        for recorder in self.layer_recorders:
            recorder.initialize(model)

    @property
    def data_buffer(self) -> List[List]:
        """Per layer, its records."""
        return [recorder.data_buffer for recorder in self.layer_recorders]

    def get_record_data(self,
                        record_idx: int = 0,
                        data_idx: Optional[int] = None) -> List[Any]:
        """Per layer, its ``record_idx``-th record (see ``BaseRecorder``)."""
        return [
            recorder.get_record_data(record_idx, data_idx)
            for recorder in self.layer_recorders
        ]

    def reset_data_buffer(self) -> None:
        for recorder in self.layer_recorders:
            recorder.reset_data_buffer()

    def __enter__(self):
        super().__enter__()
        for recorder in self.layer_recorders:
            recorder.__enter__()

    def __exit__(self, exc_type, exc_value, traceback):
        for recorder in self.layer_recorders:
            recorder.__exit__(exc_type, exc_value, traceback)
        super().__exit__(exc_type, exc_value, traceback)
