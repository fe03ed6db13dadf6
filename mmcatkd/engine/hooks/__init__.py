from .distill_loss_weight_hook import DistillLossWeightHook

__all__ = ['DistillLossWeightHook']
