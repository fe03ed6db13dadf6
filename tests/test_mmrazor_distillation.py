"""MMRazor's distillation parts behave as documented with mmcatkd imported.

MMRazor's own unit tests are not shipped in its wheel; these tests check the
parts mmcatkd builds on (recorders, deliveries, ConfigurableDistiller,
SingleTeacherDistill) through their public behaviour, on the patched import.
MMRazor's losses are MMRazor's to test: tests/test_compat.py imports them.
"""
import torch
from mmrazor.models import ConfigurableDistiller, SingleTeacherDistill
from mmrazor.models.task_modules import DistillDeliveryManager, RecorderManager
from mmrazor.registry import MODELS
from torch import nn


class ToyModel(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        feat = self.conv(x)
        return self.fc(feat.mean(dim=(2, 3)))


def test_recorders_capture_module_outputs_and_inputs():
    """ModuleOutputs / ModuleInputs recorders hold exactly what flowed."""
    model = ToyModel()
    manager = RecorderManager(
        dict(
            out=dict(type='ModuleOutputs', source='conv'),
            inp=dict(type='ModuleInputs', source='fc')))
    manager.initialize(model)
    images = torch.randn(2, 3, 5, 5)
    with manager:
        model(images)
    torch.testing.assert_close(
        manager.get_recorder('out').get_record_data(), model.conv(images))
    torch.testing.assert_close(
        manager.get_recorder('inp').get_record_data(data_idx=0),
        model.conv(images).mean(dim=(2, 3)))


class Augment:
    """A random transform whose draw the teacher and student must share."""

    def sample(self, size):
        return torch.randn(size)


def test_method_outputs_delivery_replays_teacher_outputs():
    """A MethodOutputs delivery records a method's output in the first
    (teacher) call and returns it in the second (student) call."""
    manager = DistillDeliveryManager(
        dict(
            noise=dict(
                type='MethodOutputs',
                max_keep_data=1,
                method_path='tests.test_mmrazor_distillation.Augment.sample')))
    augment = Augment()
    manager.override_data = False
    with manager:
        teacher_draw = augment.sample(3)
    manager.override_data = True
    with manager:
        student_draw = augment.sample(3)
    torch.testing.assert_close(teacher_draw, student_draw)
    assert not torch.equal(augment.sample(3), teacher_draw)


def _distiller():
    return ConfigurableDistiller(
        student_recorders=dict(fc=dict(type='ModuleOutputs', source='fc')),
        teacher_recorders=dict(fc=dict(type='ModuleOutputs', source='fc')),
        distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=1)),
        loss_forward_mappings=dict(
            loss_kl=dict(
                preds_S=dict(from_student=True, recorder='fc'),
                preds_T=dict(from_student=False, recorder='fc'))))


def test_configurable_distiller_maps_records_to_loss_arguments():
    """compute_distill_losses feeds the recorded student/teacher logits to
    the loss by argument name."""
    torch.manual_seed(0)
    student, teacher = ToyModel(), ToyModel()
    distiller = _distiller()
    distiller.prepare_from_student(student)
    distiller.prepare_from_teacher(teacher)
    images = torch.randn(2, 3, 4, 4)
    with distiller.student_recorders, distiller.teacher_recorders:
        logits_S, logits_T = student(images), teacher(images)
    expected = MODELS.build(dict(type='KLDivergence', tau=1))(logits_S,
                                                              logits_T)
    torch.testing.assert_close(distiller.compute_distill_losses()['loss_kl'],
                               expected)


def test_single_teacher_distill_trains_student_only():
    """SingleTeacherDistill returns student and distill losses and the
    teacher gets no gradient."""
    torch.manual_seed(0)
    classifier = dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='ResNet_CIFAR', depth=18, base_channels=8, stem_channels=8),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=3, in_channels=64))
    logits = dict(type='ModuleOutputs', source='head.fc')
    algorithm = SingleTeacherDistill(
        architecture=classifier,
        teacher=classifier,
        distiller=dict(
            type='ConfigurableDistiller',
            student_recorders=dict(fc=logits),
            teacher_recorders=dict(fc=logits),
            distill_losses=dict(loss_kl=dict(type='KLDivergence', tau=4)),
            loss_forward_mappings=dict(
                loss_kl=dict(
                    preds_S=dict(from_student=True, recorder='fc'),
                    preds_T=dict(from_student=False, recorder='fc')))))
    from mmpretrain.structures import DataSample
    losses = algorithm.loss(
        torch.randn(2, 3, 32, 32),
        [DataSample().set_gt_label(i) for i in (0, 2)])
    assert set(losses) == {'student.loss', 'distill.loss_kl'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in algorithm.teacher.parameters())
    assert algorithm.student.head.fc.weight.grad is not None
