"""timm's VisionTransformer initialisation, as an MMEngine weight init."""
import torch.nn as nn
from mmengine.model import BaseModule
from mmengine.model.weight_init import BaseInit
from mmengine.registry import WEIGHT_INITIALIZERS

from ...utils.errors import ConfigError
from ...utils.mmengine_private import mark_initialised, record_init_info

#: the extra tokens timm draws from the truncated normal with the weights
TOKEN_PARAMETERS = ('cls_token', 'dist_token', 'pos_embed')


@WEIGHT_INITIALIZERS.register_module(name='TimmViT')
class TimmViTInit(BaseInit):
    """The initialisation of timm's ``VisionTransformer`` (``init_weights``
    with mode ``''``, the one DeiT and the authors of [CLS]-KD train from),
    for any model, MMPretrain's ViT in particular.

    "Training data-efficient image transformers & distillation through
    attention", Touvron et al., ICML 2021, https://arxiv.org/abs/2012.12877
    (DeiT, whose recipe [CLS]-KD keeps).

    Every ``nn.Linear`` (the classifier too) gets weights from a normal
    N(0, std²) truncated to [a, b] (absolute bounds, timm's
    ``trunc_normal_``) and a zero bias; every LayerNorm, GroupNorm and
    BatchNorm2d weight 1 and bias 0; the class token, distillation token and
    position embedding the same truncated normal. Convolutions (the patch
    embedding) keep PyTorch's default, as in timm.

    MMPretrain's ``TransformerEncoderLayer.init_weights`` re-initialises its
    FFN (Xavier uniform) after the ``init_cfg`` of any module above it has
    run, so this init marks every submodule initialised: given as the
    ``init_cfg`` of a classifier, it replaces the init of everything below.
    A ``Pretrained`` init_cfg below would be skipped, so it is refused.

    Args:
        std (float): the normal's standard deviation. Defaults to 0.02.
        a (float): the lower truncation bound. Defaults to -2.0.
        b (float): the upper truncation bound. Defaults to 2.0.
    """

    def __init__(self, std: float = 0.02, a: float = -2.0, b: float = 2.0):
        super().__init__()
        self.std, self.a, self.b = std, a, b

    def __call__(self, module: nn.Module) -> None:
        for name, submodule in module.named_modules():
            self._refuse_pretrained(name, submodule)
            self._init_module(submodule)
            if isinstance(submodule, BaseModule):
                mark_initialised(submodule)
        record_init_info(module, self.describe())

    def _init_module(self, module: nn.Module) -> None:
        """timm's ``_init_vit_weights`` and token init on one module."""
        if isinstance(module, nn.Linear):
            self._trunc_normal(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.LayerNorm, nn.GroupNorm, nn.BatchNorm2d)):
            if module.weight is not None:
                nn.init.ones_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        for param_name, param in module.named_parameters(recurse=False):
            if param_name in TOKEN_PARAMETERS:
                self._trunc_normal(param)

    def _trunc_normal(self, tensor) -> None:
        nn.init.trunc_normal_(tensor, std=self.std, a=self.a, b=self.b)

    @staticmethod
    def _refuse_pretrained(name: str, module: nn.Module) -> None:
        init_cfg = getattr(module, 'init_cfg', None)
        init_cfgs = [init_cfg] if isinstance(init_cfg, dict) else init_cfg
        if name and any(
                cfg.get('type') == 'Pretrained' for cfg in init_cfgs or []):
            raise ConfigError(
                f'TimmViT initialises every submodule, so the Pretrained '
                f'init_cfg of {name} would never load: drop one of the two.')

    def describe(self) -> str:
        """The line MMEngine's init log shows for the parameters set."""
        return (f'{self.__class__.__name__}: Linear and tokens trunc normal '
                f'std={self.std} in [{self.a}, {self.b}], bias 0; norms 1 / 0')
