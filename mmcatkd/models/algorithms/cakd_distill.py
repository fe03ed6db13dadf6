"""CAKD: a ViT teacher distilled into a CNN through projected attention."""
from typing import List

from mmrazor.registry import MODELS

from .frozen_teacher_distill import FrozenTeacherDistill, LossResults


@MODELS.register_module()
class CAKDDistill(FrozenTeacherDistill):
    """Cross-Architecture Knowledge Distillation (Liu et al., ACCV 2022).

    "Cross-Architecture Knowledge Distillation",
    https://arxiv.org/abs/2207.05273

    Loss = CE(student) + lambda * sum of the distiller's losses (CAKD: the
    five ``CAKDLoss`` terms on the projections of
    ``mmcatkd.models.connectors.cakd``). ``distill_loss_weight`` is lambda,
    the one place the schedule's weight lives: ``DistillLossWeightHook``
    sets it before each epoch (CAKD: 0 for 25 epochs, then up to 0.2), and
    the logged ``distill.*`` losses are the weighted terms that are
    backpropagated. The teacher handling is ``FrozenTeacherDistill``'s:
    frozen, always in eval mode (a ViT's drop-path and dropout off), run
    through its head under ``torch.no_grad()`` on the same (mixed) inputs as
    the student, its checkpoint loaded strictly; so is the step, of which
    this class changes only the scaling.

    The paper's adversarial multi-view training is not implemented: in the
    authors' released code its discriminator sees detached attention maps,
    so no gradient of it reaches the student.

    Args:
        distiller (dict): a ``ConfigurableDistiller`` config.
        teacher (dict | BaseModel): as ``FrozenTeacherDistill``.
        distill_loss_weight (float): lambda, scaling every distillation
            loss. Defaults to 1.0.
        **kwargs: ``FrozenTeacherDistill`` arguments (``architecture``,
            ``teacher_ckpt``, ``teacher_ckpt_strict``,
            ``calculate_student_loss``, ``data_preprocessor``, ...).
    """

    def __init__(self,
                 distiller: dict,
                 teacher,
                 distill_loss_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(distiller=distiller, teacher=teacher, **kwargs)
        self.distill_loss_weight = distill_loss_weight

    def combine_distill_losses(self,
                               per_teacher: List[LossResults]) -> LossResults:
        """The distillation losses times ``distill_loss_weight``."""
        return {
            name: self.distill_loss_weight * loss
            for name, loss in super().combine_distill_losses(
                per_teacher).items()
        }
