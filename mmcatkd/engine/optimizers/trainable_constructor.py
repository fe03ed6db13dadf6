"""An optimizer constructor that leaves frozen parameters (teachers) out."""
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmrazor.registry import (OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS,
                              OPTIMIZERS)
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """MMEngine's default constructor, leaving frozen parameters out.

    Without ``paramwise_cfg`` the default constructor hands the optimizer
    every parameter of the model, frozen teachers included (they are never
    updated, having no gradient, but the optimizer still holds them); this
    one hands it only those with ``requires_grad=True``. With
    ``paramwise_cfg`` the default constructor already skips frozen
    parameters (warning about each), so it is used as is. Select it with
    ``constructor='mmrazor.TrainableOptimWrapperConstructor'`` in
    ``optim_wrapper``.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        if self.paramwise_cfg:
            return super().__call__(model)
        if hasattr(model, 'module'):
            model = model.module
        optimizer = OPTIMIZERS.build(
            dict(
                self.optimizer_cfg,
                params=[p for p in model.parameters() if p.requires_grad]))
        wrapper_cfg = self.optim_wrapper_cfg.copy()
        wrapper_cfg.setdefault('type', 'OptimWrapper')
        return OPTIM_WRAPPERS.build(
            wrapper_cfg, default_args=dict(optimizer=optimizer))
