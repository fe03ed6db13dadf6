"""Fidelity of a student to its teachers: top-1 agreement, KL, entropy and
the mutual information of their predictions.

Guo et al., "Why does Knowledge Distillation Work? Rethink its Attention and
Fidelity Mechanism", Expert Systems with Applications 262 (2025),
https://arxiv.org/abs/2405.00739. Several teachers count as one ensemble
whose logits are the mean of theirs. The functions marked "as the authors"
compute what the authors' trainer (zisci2/RethinkKD ``trainer.py``) logs.
"""
from typing import List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS

from ...utils.errors import ConfigError, ConfigKeyError


def top1_agreement(scores_a: torch.Tensor, scores_b: torch.Tensor) -> float:
    """Fraction of samples with the same top-1 class under both (N, K).

    Logits or probabilities alike (the arg-max is the same). Ties go to the
    lowest class index, as ``torch.argmax``.
    """
    if scores_a.shape != scores_b.shape:
        raise ConfigError('top-1 agreement needs scores of the same shape, '
                          f'got {tuple(scores_a.shape)} and '
                          f'{tuple(scores_b.shape)}.')
    return (scores_a.argmax(dim=1) == scores_b.argmax(
        dim=1)).float().mean().item()


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
        raise ConfigError('KL divergence needs logits of the same shape, got '
                          f'{tuple(target_logits.shape)} and '
                          f'{tuple(logits.shape)}.')
    log_p_target = F.log_softmax(target_logits.double() / temperature, dim=1)
    log_p = F.log_softmax(logits.double() / temperature, dim=1)
    kl = (log_p_target.exp() * (log_p_target - log_p)).sum(dim=1)
    return kl.mean().item()


def fidelity_kl(teacher_logits: torch.Tensor,
                student_logits: torch.Tensor) -> float:
    """The paper's KL, as the authors compute it: ``10 * KL(p_S || p_T)``.

    Their ``KL_divergence(teacher, student)`` is ``F.kl_div(log p_T, p_S,
    'batchmean') * 10``: the student's distribution against the teacher's
    (the reverse of the KD loss), temperature 1, times 10.

    Args:
        teacher_logits (Tensor): (N, K), the (ensemble) teacher's.
        student_logits (Tensor): (N, K).
    """
    return 10 * kl_divergence(student_logits, teacher_logits)


def _top1(logits: torch.Tensor) -> np.ndarray:
    return logits.argmax(dim=1).cpu().numpy()


def prediction_mutual_information(teacher_logits: torch.Tensor,
                                  student_logits: torch.Tensor,
                                  seed: int = 0) -> float:
    """``mi`` as the authors compute it: scikit-learn's
    ``mutual_info_classif`` with the student's top-1 class as a continuous
    feature and the teacher's as the discrete target (Ross's k-nearest-
    neighbour estimator, 3 neighbours, nats).

    The estimator adds noise of scale 1e-10 to the feature; ``seed`` fixes
    it (the authors leave it unseeded). Samples whose teacher class occurs
    once are ignored by the estimator; with no other sample there is no
    estimate and the result is ``nan`` (the authors' trainer would raise).
    """
    from sklearn.feature_selection import mutual_info_classif
    teacher_top1 = _top1(teacher_logits)
    if len(teacher_top1) == len(np.unique(teacher_top1)):
        return float('nan')
    return float(
        mutual_info_classif(
            _top1(student_logits).reshape(-1, 1).astype(float),
            teacher_top1,
            discrete_features=False,
            random_state=seed)[0])


def prediction_mutual_info_score(teacher_logits: torch.Tensor,
                                 student_logits: torch.Tensor) -> float:
    """``mis`` as the authors compute it: scikit-learn's
    ``mutual_info_score`` of the two top-1 predictions, the plug-in mutual
    information of their contingency table, ``sum_ij p_ij log(p_ij / (p_i
    p_j))`` in nats."""
    from sklearn.metrics import mutual_info_score
    return float(
        mutual_info_score(_top1(teacher_logits), _top1(student_logits)))


def prediction_entropy(logits: torch.Tensor) -> float:
    """Mean over samples of ``-sum_k p_k log p_k`` (nats), p = softmax."""
    log_p = F.log_softmax(logits.double(), dim=1)
    return -(log_p.exp() * log_p).sum(dim=1).mean().item()


def _mean_of_estimates(values: List[float]) -> float:
    """Mean of the per-batch estimates that exist (``nan`` if none)."""
    values = [value for value in values if not np.isnan(value)]
    return float(np.mean(values)) if values else float('nan')


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
    - ``kl``: with ``kl_mode='authors'`` the paper's ``10 * KL(p_student ||
      p_ensemble)`` (:func:`fidelity_kl`); with ``kl_mode='kd'`` the mean
      ``KL(p_ensemble || p_student)`` at ``temperature``, the KD loss's
      direction; nats;
    - ``mi`` and ``mis``: the authors' mutual information of the ensemble's
      and the student's top-1 predictions
      (:func:`prediction_mutual_information`,
      :func:`prediction_mutual_info_score`), computed per batch and averaged
      over the batches, as their trainer logs them (both depend on the batch
      size; the authors use 128 and drop the last partial batch; a batch
      without an ``mi`` estimate is left out of its mean);
    - ``student_entropy`` and ``teacher_entropy``: mean prediction entropy of
      the student and of the ensemble, nats;
    - with T > 1, ``top1_agreement_teacher{i}`` for each teacher.

    Args:
        kl_mode (str): 'authors' or 'kd', see ``kl`` above.
            Defaults to 'authors'.
        temperature (float): softmax temperature of the ``'kd'`` KL.
            Defaults to 1.0.
        collect_device (str): as :class:`mmengine.evaluator.BaseMetric`.
        prefix (str, optional): defaults to 'fidelity'.
    """
    default_prefix: Optional[str] = 'fidelity'

    def __init__(self,
                 kl_mode: str = 'authors',
                 temperature: float = 1.0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if kl_mode not in ('authors', 'kd'):
            raise ConfigError(f"kl_mode must be 'authors' (10 KL(p_S || p_T))"
                              f" or 'kd' (KL(p_T || p_S)), got {kl_mode!r}.")
        if kl_mode == 'authors' and temperature != 1.0:
            raise ConfigError('the authors measure KL at temperature 1: set '
                              "kl_mode='kd' to choose a temperature.")
        self.kl_mode = kl_mode
        self.temperature = temperature

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            missing = [
                key for key in ('pred_logits', 'teacher_logits')
                if key not in sample
            ]
            if missing:
                raise ConfigKeyError(
                    f'TeacherFidelity needs {missing} in the predictions: '
                    'evaluate a MultiTeacherDistill model built with '
                    'attach_teacher_outputs=True (or use '
                    'tools/analyze_attention.py for separate models).')
            self.results.append(
                dict(
                    pred_logits=sample['pred_logits'].cpu(),
                    teacher_logits=sample['teacher_logits'].cpu()))
        # the authors' mutual information: one value per batch
        student = torch.stack([
            result['pred_logits']
            for result in self.results[-len(data_samples):]
        ])
        ensemble = torch.stack([
            result['teacher_logits']
            for result in self.results[-len(data_samples):]
        ]).mean(dim=1)
        self.results[-1].update(
            batch_mi=prediction_mutual_information(ensemble, student),
            batch_mis=prediction_mutual_info_score(ensemble, student))

    def compute_metrics(self, results: List[dict]) -> dict:
        student = torch.stack([result['pred_logits'] for result in results])
        # (N, T, K) -> (T, N, K)
        teachers = torch.stack(
            [result['teacher_logits'] for result in results]).transpose(0, 1)
        ensemble = teachers.mean(dim=0)
        kl = (
            fidelity_kl(ensemble, student) if self.kl_mode == 'authors' else
            kl_divergence(ensemble, student, self.temperature))
        per_batch = [result for result in results if 'batch_mi' in result]
        metrics = dict(
            top1_agreement=top1_agreement(student, ensemble),
            kl=kl,
            mi=_mean_of_estimates([result['batch_mi']
                                   for result in per_batch]),
            mis=float(np.mean([result['batch_mis'] for result in per_batch])),
            student_entropy=prediction_entropy(student),
            teacher_entropy=prediction_entropy(ensemble))
        if len(teachers) > 1:
            for index, teacher in enumerate(teachers):
                metrics[f'top1_agreement_teacher{index}'] = top1_agreement(
                    student, teacher)
        return metrics


def batch_fidelity(student_logits: torch.Tensor,
                   teacher_logits: torch.Tensor) -> dict:
    """The fidelity measures of one batch, as the authors' trainer logs them
    per training batch (``my_train``), which it then averages over batches.

    Args:
        student_logits (Tensor): (N, K).
        teacher_logits (Tensor): (N, T, K), the T teachers'; the ensemble
            has their mean logits.

    Returns:
        dict: ``top1_agreement``, ``kl`` (:func:`fidelity_kl`), ``mi``,
        ``mis``, ``student_entropy`` and ``teacher_entropy`` of the batch.
    """
    if teacher_logits.dim() != 3:
        raise ConfigError('batch_fidelity needs the teachers\' logits as '
                          f'(N, T, K), got {tuple(teacher_logits.shape)}.')
    student = student_logits.detach().float().cpu()
    ensemble = teacher_logits.detach().float().cpu().mean(dim=1)
    return dict(
        top1_agreement=top1_agreement(student, ensemble),
        kl=fidelity_kl(ensemble, student),
        mi=prediction_mutual_information(ensemble, student),
        mis=prediction_mutual_info_score(ensemble, student),
        student_entropy=prediction_entropy(student),
        teacher_entropy=prediction_entropy(ensemble))
