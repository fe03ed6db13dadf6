"""MultiTeacherDistill: per-teacher losses averaged, frozen teachers, and the
teacher outputs the fidelity / CAM IoU metrics read."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.optim import build_optim_wrapper
from mmpretrain.structures import DataSample
from mmrazor.registry import MODELS

from mmcatkd.models.losses import CATLoss
from tests.conftest import TEST_CONFIGS, random_batch

NUM_CLASSES = 4
STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')
TEACHER = osp.join(TEST_CONFIGS, 'tiny_teacher.py')

KL_DISTILLER = dict(
    type='ConfigurableDistiller',
    student_recorders=dict(
        logits=dict(type='ModuleOutputs', source='head.fc')),
    teacher_recorders=dict(
        logits=dict(type='ModuleOutputs', source='head.fc')),
    distill_losses=dict(
        loss_kl=dict(type='KLDivergence', tau=3, loss_weight=0.4)),
    loss_forward_mappings=dict(
        loss_kl=dict(
            preds_S=dict(from_student=True, recorder='logits'),
            preds_T=dict(from_student=False, recorder='logits'))))
CAT_DISTILLER = dict(
    type='CAMDistiller', cat_loss=dict(loss_weight=1.0, resolution=2))


def _build(distiller=KL_DISTILLER, **overrides):
    torch.manual_seed(0)
    cfg = dict(
        _scope_='mmrazor',
        type='MultiTeacherDistill',
        architecture=dict(cfg_path=STUDENT),
        # two different teachers: a GAP + LinearClsHead one and a
        # CAMClsHead one of the student's shape
        teachers=[dict(cfg_path=TEACHER),
                  dict(cfg_path=STUDENT)],
        data_preprocessor=Config.fromfile(STUDENT).data_preprocessor.to_dict(),
        distiller=distiller)
    cfg.update(overrides)
    return MODELS.build(cfg)


_batch = random_batch


def test_kl_loss_is_the_mean_of_the_per_teacher_losses():
    """distill.loss_kl = (1/T) sum_t 0.4 * tau^2 KL(p_t || p_s) at tau 3,
    each teacher against the same student logits."""
    model = _build()
    images, samples = _batch()
    losses = model.loss(images, samples)
    assert set(losses) == {'student.loss', 'distill.loss_kl'}
    with torch.no_grad():
        student_logits = model.student(images, mode='tensor')
        expected = sum(0.4 * 9 * torch.nn.functional.kl_div(
            torch.log_softmax(student_logits / 3, dim=1),
            torch.softmax(teacher(images, mode='tensor') / 3, dim=1),
            reduction='batchmean') for teacher in model.teachers) / 2
    torch.testing.assert_close(losses['distill.loss_kl'].detach(), expected)


def test_cat_loss_is_the_mean_of_the_per_teacher_cat_losses():
    """With CAMDistiller each teacher's CAMs are compared with the student's
    and the CAT losses averaged; the teachers run only their backbones."""
    model = _build(CAT_DISTILLER)
    images, samples = _batch()
    calls = []
    for index, teacher in enumerate(model.teachers):
        teacher.head.register_forward_hook(
            lambda *args, index=index: calls.append(('head', index)))
    losses = model.loss(images, samples)
    assert calls == []
    assert set(losses) == {'student.loss', 'distill.loss_cat'}

    def cams(classifier):
        feat = classifier.backbone(images)[-1]
        return torch.nn.functional.conv2d(
            feat, classifier.head.fc.weight[:, :, None, None])

    with torch.no_grad():
        cat = CATLoss(loss_weight=1.0, resolution=2)
        expected = sum(
            cat(cams(model.student), cams(teacher))
            for teacher in model.teachers) / 2
    torch.testing.assert_close(losses['distill.loss_cat'].detach(), expected)


@pytest.mark.parametrize(
    'distiller', [KL_DISTILLER, CAT_DISTILLER], ids=['kl', 'cat'])
def test_training_steps_update_the_student_only(distiller):
    """Three optimiser steps through train_step change the student's weights
    and leave every teacher weight and BN statistic as it was; the teachers
    are frozen, in eval mode, and absent from the optimizer."""
    model = _build(distiller)
    optim_wrapper = build_optim_wrapper(
        model,
        dict(
            constructor='mmrazor.TrainableOptimWrapperConstructor',
            optimizer=dict(
                type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4)))
    in_optimizer = {
        id(p)
        for group in optim_wrapper.optimizer.param_groups
        for p in group['params']
    }
    assert in_optimizer == {id(p) for p in model.student.parameters()}
    teacher_state = {
        key: value.clone()
        for key, value in model.teachers.state_dict().items()
    }
    student_weight = model.student.backbone.conv1.weight.detach().clone()

    model.train()
    assert not any(m.training for m in model.teachers.modules())
    generator = torch.Generator().manual_seed(1)
    for step in range(3):
        data = dict(
            inputs=[
                torch.randint(
                    0,
                    256, (3, 32, 32),
                    generator=generator,
                    dtype=torch.uint8) for _ in range(4)
            ],
            data_samples=[
                DataSample().set_gt_label(i % NUM_CLASSES) for i in range(4)
            ])
        log_vars = model.train_step(data, optim_wrapper)
        assert torch.isfinite(log_vars['loss'])

    assert all(not p.requires_grad and p.grad is None
               for p in model.teachers.parameters())
    for key, value in model.teachers.state_dict().items():
        torch.testing.assert_close(value, teacher_state[key], msg=key)
    assert not torch.equal(model.student.backbone.conv1.weight, student_weight)


def test_checkpoint_holds_the_teachers_and_teacher_ckpts_load(tmp_path):
    """The state dict has teachers.0 and teachers.1; teacher_ckpts loads one
    checkpoint per teacher (None keeps the initial weights) and a wrong
    count of checkpoints is refused."""
    source = _build()
    keys = source.state_dict().keys()
    assert any(key.startswith('teachers.0.backbone') for key in keys)
    assert any(key.startswith('teachers.1.backbone') for key in keys)

    path = str(tmp_path / 'teacher0.pth')
    torch.manual_seed(5)
    weights = {
        key: torch.randn_like(value) if value.is_floating_point() else value
        for key, value in source.teachers[0].state_dict().items()
    }
    torch.save(dict(state_dict=weights), path)
    model = _build(teacher_ckpts=[path, None])
    for key, value in weights.items():
        torch.testing.assert_close(model.teachers[0].state_dict()[key], value)
    with pytest.raises(ValueError, match='2 teacher_ckpts for 3 teachers'):
        _build(
            teachers=[dict(cfg_path=TEACHER)] * 3, teacher_ckpts=[path, None])


def test_class_count_mismatch_names_the_teacher():
    """A teacher with other classes fails at build, naming its index."""
    with pytest.raises(ValueError, match='teacher 1 7'):
        _build(teachers=[
            dict(cfg_path=TEACHER),
            dict(cfg_path=TEACHER, head=dict(num_classes=7))
        ])


def test_attached_teacher_outputs_feed_fidelity_and_cam_iou():
    """predict with attach_teacher_outputs stores logits and CAMs in model
    order: a teacher holding the student's weights agrees with it on every
    image (fidelity 1, CAM IoU 1), and the metrics read the fields."""
    model = _build(attach_teacher_outputs=True)
    model.teachers[1].load_state_dict(model.student.state_dict())
    model.eval()
    # no img_shape (in-memory datasets have none): the input size is kept
    images, samples = _batch(n=6)
    predictions = model(images, samples, mode='predict')
    first = predictions[0]
    assert first.pred_logits.shape == (NUM_CLASSES, )
    assert first.teacher_logits.shape == (2, NUM_CLASSES)
    assert [tuple(cam.shape) for cam in first.cams] == [(4, 4)] * 3
    assert first.batch_input_shape == (32, 32)
    torch.testing.assert_close(first.pred_score,
                               first.pred_logits.softmax(dim=0))

    evaluator = Evaluator([
        dict(type='mmpretrain.TeacherFidelity'),
        dict(type='mmpretrain.CAMIoU')
    ])
    evaluator.process(predictions)
    results = evaluator.evaluate(len(predictions))
    assert results['fidelity/top1_agreement_teacher1'] == 1.0
    assert results['cam_iou/student-teacher1'] == 1.0
    assert 0 <= results['cam_iou/student-teacher0'] <= 1
    assert 'cam_iou/all' in results


def test_predict_without_attach_is_the_students():
    """By default predict is the student's own, teachers untouched."""
    model = _build()
    model.eval()
    images, samples = _batch()
    calls = []
    for teacher in model.teachers:
        teacher.register_forward_hook(lambda *args: calls.append(1))
    predictions = model(images, samples, mode='predict')
    assert calls == [] and 'teacher_logits' not in predictions[0]


def test_teacher_mode_train_keeps_the_teachers_as_the_authors_do():
    """teacher_mode='train' (the multi-teacher study's code never calls
    eval() on its teachers): they stay in train mode through model.eval()
    too, their BN layers normalise with the batch's statistics (the distilled
    logits are a train-mode teacher's, not an eval-mode one's) and their
    running statistics drift, while their weights never change."""
    model = _build(teacher_mode='train')
    model.eval()
    assert all(m.training for m in model.teachers.modules())
    model.train()
    assert all(m.training for m in model.teachers.modules())
    teacher = model.teachers[1]
    reference = copy.deepcopy(teacher)
    images, samples = _batch()
    inputs = model.data_preprocessor(
        dict(inputs=images, data_samples=samples), True)['inputs']
    recorded = {}
    teacher.head.fc.register_forward_hook(
        lambda module, args, output: recorded.update(logits=output))
    before = copy.deepcopy(teacher.state_dict())
    model.loss(inputs, samples)
    with torch.no_grad():
        train_mode_logits = reference.train()(inputs, mode='tensor')
        eval_mode_logits = copy.deepcopy(reference).eval()(
            inputs, mode='tensor')
    torch.testing.assert_close(recorded['logits'], train_mode_logits)
    assert not torch.allclose(recorded['logits'], eval_mode_logits)
    after = teacher.state_dict()
    moved = [
        key for key in before
        if 'running_mean' in key and not torch.equal(before[key], after[key])
    ]
    assert moved
    for name, parameter in teacher.named_parameters():
        assert torch.equal(before[name], parameter), name


def test_unknown_teacher_mode_is_refused():
    with pytest.raises(ValueError, match="teacher_mode must be 'eval'"):
        _build(teacher_mode='frozen')


def test_channels_last_reaches_the_student_every_teacher_and_the_inputs():
    """MultiTeacherDistill(channels_last=True) lays out every conv weight of
    the student and of each teacher in channels_last, and every backbone
    receives a channels_last batch."""
    channels_last = torch.channels_last
    model = _build(CAT_DISTILLER, channels_last=True)
    layouts = {
        module.weight.is_contiguous(memory_format=channels_last)
        and not module.weight.is_contiguous()
        for module in model.modules()
        if isinstance(module, torch.nn.Conv2d) and module.kernel_size != (1, 1)
    }
    assert layouts == {True}
    seen = []
    for teacher_or_student in (model.student, *model.teachers):
        teacher_or_student.backbone.register_forward_pre_hook(
            lambda module, args: seen.append(args[0].is_contiguous(
                memory_format=channels_last)))
    model(*_batch(), mode='loss')
    assert seen == [True, True, True]


def test_attached_cams_are_taken_in_eval_mode_with_the_built_statistics():
    """With teacher_mode='train', the attached teacher logits come from
    train mode (batch statistics) but the CAMs, as the authors' IoU script
    takes them, from eval mode with the running statistics the teachers
    were built with, although the train-mode forwards have moved them; the
    moved statistics and train mode are kept after predict."""
    from mmcatkd.models import logits_and_cams
    model = _build(attach_teacher_outputs=True, teacher_mode='train')
    built = [copy.deepcopy(teacher).eval() for teacher in model.teachers]
    model.eval()
    images, samples = _batch(n=6)
    with torch.no_grad():
        model.teachers[0](images * 3 + 1)  # moves the running statistics
    moved = copy.deepcopy(model.teachers[0].state_dict())
    predictions = model(images, samples, mode='predict')
    with torch.no_grad():
        for index, reference in enumerate(built):
            logits, cams = logits_and_cams(reference, images)
            for n, sample in enumerate(predictions):
                torch.testing.assert_close(sample.cams[1 + index],
                                           cams[n].sum(dim=0))
                # the logits are the train-mode ones, not eval mode's
                assert not torch.allclose(sample.teacher_logits[index],
                                          logits[n])
    assert all(teacher.training for teacher in model.teachers)
    after = model.teachers[0].state_dict()
    for name, value in moved.items():
        if 'running' in name:
            # the predict's own train-mode pass moves them further, never
            # back to the built ones
            assert not torch.equal(after[name], built[0].state_dict()[name])
