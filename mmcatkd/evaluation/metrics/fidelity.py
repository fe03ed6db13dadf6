"""Fidelity of a student to its teachers: top-1 agreement, KL and entropy.

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", Expert Systems with Applications 262 (2025),
https://arxiv.org/abs/2405.00739. Several teachers count as one ensemble
whose logits are the mean of theirs.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


def top1_agreement(scores_a: torch.Tensor, scores_b: torch.Tensor) -> float:
    """Fraction of samples with the same top-1 class under both (N, K).

    Logits or probabilities alike (the arg-max is the same). Ties go to the
    lowest class index, as ``torch.argmax``.
    """
    if scores_a.shape != scores_b.shape:
        raise ValueError('top-1 agreement needs scores of the same shape, '
                         f'got {tuple(scores_a.shape)} and '
                         f'{tuple(scores_b.shape)}.')
    return (scores_a.argmax(dim=1) == scores_b.argmax(dim=1)).float().mean(
    ).item()


def kl_divergence(target_logits: torch.Tensor,
                  logits: torch.Tensor,
                  temperature: float = 1.0) -> float:
    """Mean over samples of ``KL(p_t || p) = sum_k p_t,k log(p_t,k / p_k)``.

    ``p = softmax(logits / temperature)``, natural logarithm (nats), no
    ``temperature**2`` factor. With the teacher as target this is the
    direction of the KD loss.

    Args:
        target_logits (Tensor): (N, K), e.g. the (ensemble) teacher's.
        logits (Tensor): (N, K), e.g. the student's.
        temperature (float): softmax temperature. Defaults to 1.0.
    """
    if target_logits.shape != logits.shape:
        raise ValueError('KL divergence needs logits of the same shape, got '
                         f'{tuple(target_logits.shape)} and '
                         f'{tuple(logits.shape)}.')
    log_p_target = F.log_softmax(target_logits.double() / temperature, dim=1)
    log_p = F.log_softmax(logits.double() / temperature, dim=1)
    kl = (log_p_target.exp() * (log_p_target - log_p)).sum(dim=1)
    return kl.mean().item()


def prediction_entropy(logits: torch.Tensor) -> float:
    """Mean over samples of ``-sum_k p_k log p_k`` (nats), p = softmax."""
    log_p = F.log_softmax(logits.double(), dim=1)
    return -(log_p.exp() * log_p).sum(dim=1).mean().item()


@METRICS.register_module()
class TeacherFidelity(BaseMetric):
    """How closely the evaluated model follows its teachers' predictions.

    Needs the teachers' logits in the predictions: ``MultiTeacherDistill``
    with ``attach_teacher_outputs=True`` stores the student's logits as
    ``pred_logits`` (K,) and the teachers' as ``teacher_logits`` (T, K). The
    ensemble teacher has the mean of the T teachers' logits. Reports, under
    the prefix ``fidelity``:

    - ``top1_agreement``: fraction of samples whose student top-1 class is
      the ensemble's top-1 class (the paper's fidelity);
    - ``kl``: mean ``KL(p_ensemble || p_student)`` at temperature 1, nats;
    - ``student_entropy`` and ``teacher_entropy``: mean prediction entropy of
      the student and of the ensemble, nats;
    - with T > 1, ``top1_agreement_teacher{i}`` for each teacher.

    Args:
        temperature (float): softmax temperature of the KL. Defaults to 1.0.
        collect_device (str): as :class:`mmengine.evaluator.BaseMetric`.
        prefix (str, optional): defaults to 'fidelity'.
    """
    default_prefix: Optional[str] = 'fidelity'

    def __init__(self,
                 temperature: float = 1.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.temperature = temperature

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            missing = [key for key in ('pred_logits', 'teacher_logits')
                       if key not in sample]
            if missing:
                raise KeyError(
                    f'TeacherFidelity needs {missing} in the predictions: '
                    'evaluate a MultiTeacherDistill model built with '
                    'attach_teacher_outputs=True (or use '
                    'tools/analyze_attention.py for separate models).')
            self.results.append(
                dict(
                    pred_logits=sample['pred_logits'].cpu(),
                    teacher_logits=sample['teacher_logits'].cpu()))

    def compute_metrics(self, results: List[dict]) -> dict:
        student = torch.stack([result['pred_logits'] for result in results])
        # (N, T, K) -> (T, N, K)
        teachers = torch.stack(
            [result['teacher_logits'] for result in results]).transpose(0, 1)
        ensemble = teachers.mean(dim=0)
        metrics = dict(
            top1_agreement=top1_agreement(student, ensemble),
            kl=kl_divergence(ensemble, student, self.temperature),
            student_entropy=prediction_entropy(student),
            teacher_entropy=prediction_entropy(ensemble))
        if len(teachers) > 1:
            for index, teacher in enumerate(teachers):
                metrics[f'top1_agreement_teacher{index}'] = top1_agreement(
                    student, teacher)
        return metrics
