"""A distiller that records both models' CAMs and applies the CAT loss."""
import copy
from typing import Dict, Optional

from mmrazor.models.distillers import ConfigurableDistiller
from mmrazor.registry import MODELS

from ...utils.errors import ConfigError

CAM_RECORDER = 'cam'
CAT_LOSS = 'loss_cat'


@MODELS.register_module()
class CAMDistiller(ConfigurableDistiller):
    """``ConfigurableDistiller`` that wires CAT-KD by itself (CVPR 2023,
    Eq. 5).

    It adds a ``CAMRecorder`` named ``'cam'`` to the student and to the
    teacher, the loss ``'loss_cat'`` built from ``cat_loss`` and its forward
    mapping (``cams_S`` from the student, ``cams_T`` from the teacher). Any
    other recorders, losses and mappings given are kept, so MMRazor losses can
    be combined with CAT (e.g. ``KLDivergence`` on recorded logits).

    CAMs are computed at the pooled resolution where that is exact: always
    for the student, and for the teacher unless the loss says it needs
    full-resolution teacher maps (``CATLoss.needs_full_teacher_cams``).

    The algorithms ask :meth:`needs_only_backbone` how far each model must
    run for its records.

    Args:
        cat_loss (dict): ``CATLoss`` options; ``type`` defaults to 'CATLoss'.
        cam_source (str): module whose last output the classifier pools.
            Defaults to 'backbone'.
        cam_head (str): module holding the classifier ``fc``.
            Defaults to 'head'.
        pooled_cams (bool): compute CAMs at the pooled resolution where
            exact. Defaults to True.
        **kwargs: ``ConfigurableDistiller`` arguments for further losses.
    """

    def __init__(self,
                 cat_loss: Optional[Dict] = None,
                 cam_source: str = 'backbone',
                 cam_head: str = 'head',
                 pooled_cams: bool = True,
                 student_recorders: Optional[Dict[str, Dict]] = None,
                 teacher_recorders: Optional[Dict[str, Dict]] = None,
                 distill_losses: Optional[Dict[str, Dict]] = None,
                 loss_forward_mappings: Optional[Dict[str, Dict]] = None,
                 **kwargs) -> None:
        if not isinstance(pooled_cams, bool):  # 'False' would count as True
            raise ConfigError(
                f'pooled_cams must be True or False, got {pooled_cams!r}.')
        if not isinstance(cat_loss, (dict, type(None))):
            raise ConfigError(
                'cat_loss must be a dict of CATLoss options, got '
                f'{cat_loss!r}.')
        cat_loss_cfg = dict(type='CATLoss')
        cat_loss_cfg.update(cat_loss or {})
        cat = MODELS.build(cat_loss_cfg)
        student_recorders = copy.deepcopy(dict(student_recorders or {}))
        teacher_recorders = copy.deepcopy(dict(teacher_recorders or {}))
        for name, taken in ((CAM_RECORDER, student_recorders),
                            (CAM_RECORDER, teacher_recorders),
                            (CAT_LOSS, distill_losses or {})):
            if name in taken:
                raise ConfigError(
                    f'"{name}" is reserved by CAMDistiller for CAT-KD: give '
                    'your recorder or loss another name.')

        # RecorderManager appends 'Recorder' to the type: 'CAM' -> CAMRecorder.
        recorder = dict(type='CAM', source=cam_source, head=cam_head)
        student_recorders[CAM_RECORDER] = dict(
            recorder, output_size=cat.resolution if pooled_cams else None)
        teacher_recorders[CAM_RECORDER] = dict(
            recorder,
            output_size=cat.resolution
            if pooled_cams and not cat.needs_full_teacher_cams else None)

        super().__init__(
            student_recorders=student_recorders,
            teacher_recorders=teacher_recorders,
            distill_losses=distill_losses,
            loss_forward_mappings=loss_forward_mappings,
            **kwargs)
        self.distill_losses[CAT_LOSS] = cat
        self.loss_forward_mappings = dict(self.loss_forward_mappings)
        self.loss_forward_mappings[CAT_LOSS] = dict(
            cams_S=dict(from_student=True, recorder=CAM_RECORDER),
            cams_T=dict(from_student=False, recorder=CAM_RECORDER))

    def needs_only_backbone(self, side: str) -> bool:
        """Whether the ``side`` model ('student' or 'teacher') fills every
        record of this distiller by running its backbone alone: its CAM
        recorder is its only recorder and hooks the backbone or a module in
        it. Otherwise (a recorder on the logits, say) the model must run
        its whole forward."""
        managers = dict(
            student=self.student_recorders, teacher=self.teacher_recorders)
        recorders = managers[side].recorders
        source = recorders[CAM_RECORDER].source
        return list(recorders) == [
            CAM_RECORDER
        ] and (source == 'backbone' or source.startswith('backbone.'))
