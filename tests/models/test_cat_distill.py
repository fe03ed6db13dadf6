"""CAMDistiller + CATDistill: what one CAT-KD step does and refuses."""

import pytest
import torch
from mmpretrain.structures import DataSample

from tests.conftest import (build_model, cams_by_hand, cat_by_hand, model_cfg,
                            random_batch)

NUM_CLASSES = 4


def _model_cfg(**overrides):
    return model_cfg('catkd_tiny.py', **overrides)


def _build(**overrides):
    return build_model('catkd_tiny.py', **overrides)


_batch = random_batch


def _distiller(**cat_loss):
    return dict(type='CAMDistiller', cat_loss=cat_loss)


def test_step_logs_student_ce_and_cat_separately():
    """loss() returns the student's CE and the CAT loss under their own
    names, both finite."""
    losses = _build().loss(*_batch())
    assert set(losses) == {'student.loss', 'distill.loss_cat'}
    assert all(torch.isfinite(value) for value in losses.values())


def test_gradients_reach_student_backbone_and_not_teacher():
    """One backward of the summed losses reaches the student's first conv
    and leaves every teacher parameter without gradient."""
    model = _build()
    model.train()
    losses = model.loss(*_batch())
    sum(losses.values()).backward()
    assert model.student.backbone.conv1.weight.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None
               for p in model.teacher.parameters())


def test_cat_gradient_alone_reaches_student_backbone():
    """The CAT term by itself trains the student's backbone."""
    model = _build()
    model.loss(*_batch())['distill.loss_cat'].backward()
    assert model.student.backbone.conv1.weight.grad.abs().sum() > 0


def test_teacher_stays_in_eval_mode_and_runs_only_its_backbone():
    """train() keeps the teacher (dropout included) in eval mode; a step
    runs the teacher's backbone under no_grad and never its head."""
    model = _build()
    model.teacher.backbone.add_module('dropout', torch.nn.Dropout(0.5))
    model.train()
    assert model.student.training
    assert not any(m.training for m in model.teacher.modules())
    calls = []
    model.teacher.head.register_forward_hook(
        lambda *args: calls.append('head'))
    model.teacher.backbone.register_forward_hook(
        lambda module, inputs, outputs: calls.append(
            ('backbone', torch.is_grad_enabled())))
    model.loss(*_batch())
    assert calls == [('backbone', False)]


def test_cat_only_never_uses_labels():
    """calculate_student_loss=False trains from CAMs alone: no student loss
    and no label is read (samples without gt_label work)."""
    model = _build(calculate_student_loss=False)
    images, _ = _batch()
    losses = model.loss(images, [DataSample() for _ in range(len(images))])
    assert set(losses) == {'distill.loss_cat'}
    losses['distill.loss_cat'].backward()
    assert model.student.backbone.conv1.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('cat_loss', [
    dict(resolution=2, normalize=True),
    dict(resolution=4, normalize=False),
    dict(resolution=2, num_selected=2),
])
def test_pooled_first_cams_give_the_full_resolution_loss(cat_loss):
    """CAMs computed at the pooled resolution give the same CAT loss and
    student gradient as full-resolution CAMs (1e-5)."""
    results = []
    for pooled in (True, False):
        model = _build(
            distiller=dict(_distiller(**cat_loss), pooled_cams=pooled))
        loss = model.loss(*_batch())['distill.loss_cat']
        loss.backward()
        results.append(
            (loss.detach(), model.student.backbone.conv1.weight.grad.clone()))
    (loss_pooled, grad_pooled), (loss_full, grad_full) = results
    torch.testing.assert_close(loss_pooled, loss_full, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(grad_pooled, grad_full, atol=1e-5, rtol=1e-4)


def test_recorders_pool_where_exact():
    """Student CAMs are pooled first; teacher CAMs stay full-size when the
    loss binarizes or selects by teacher score."""
    plain = _build().distiller
    binarized = _build(distiller=_distiller(binarize=True)).distiller
    assert plain.student_recorders.recorders['cam'].output_size == 2
    assert plain.teacher_recorders.recorders['cam'].output_size == 2
    assert binarized.student_recorders.recorders['cam'].output_size == 2
    assert binarized.teacher_recorders.recorders['cam'].output_size is None


def test_other_mmrazor_losses_combine_with_cat():
    """A KLDivergence on recorded logits sits beside CAT in one distiller;
    the teacher then runs its head too."""
    logits = dict(type='ModuleOutputs', source='head.fc')
    model = _build(
        distiller=dict(
            _distiller(),
            student_recorders=dict(logits=logits),
            teacher_recorders=dict(logits=logits),
            distill_losses=dict(
                loss_kl=dict(type='KLDivergence', tau=4, loss_weight=1.0)),
            loss_forward_mappings=dict(
                loss_kl=dict(
                    preds_S=dict(from_student=True, recorder='logits'),
                    preds_T=dict(from_student=False, recorder='logits')))))
    losses = model.loss(*_batch())
    assert set(losses) == {
        'student.loss', 'distill.loss_cat', 'distill.loss_kl'
    }
    assert all(torch.isfinite(value) for value in losses.values())


def test_reserved_names_are_refused():
    """A user recorder called 'cam' would silently replace CAT's."""
    with pytest.raises(ValueError, match='reserved'):
        _build(
            distiller=dict(
                _distiller(),
                student_recorders=dict(
                    cam=dict(type='ModuleOutputs', source='head.fc'))))


def test_class_count_mismatch_names_both():
    """Student and teacher with different class counts fail at build with
    both counts in the message."""
    teacher = dict(_model_cfg()['teacher'], head=dict(num_classes=7))
    with pytest.raises(ValueError, match='4 classes and the teacher 7'):
        _build(teacher=teacher)


def test_head_without_classifier_is_named():
    """A head with no `fc` (so no CAMs) fails naming its type."""
    from mmpretrain.models.heads import ClsHead
    from mmpretrain.registry import MODELS as PRETRAIN_MODELS
    teacher = PRETRAIN_MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='ResNet_CIFAR', depth=18),
            head=dict(type='ClsHead')))
    assert isinstance(teacher.head, ClsHead)
    with pytest.raises(
            TypeError, match='ClsHead cannot produce class '
            'activation maps'):
        _build(teacher=teacher)


def test_teacher_checkpoint_is_loaded_strictly(tmp_path):
    """teacher_ckpt loads the weights; missing/unexpected keys and shape
    mismatches fail listing some of them; a missing file is named."""
    source = _build()
    state = source.teacher.state_dict()
    path = str(tmp_path / 'teacher.pth')
    torch.save(dict(state_dict=state), path)
    model = _build(teacher_ckpt=path)
    for key, value in state.items():
        torch.testing.assert_close(model.teacher.state_dict()[key], value)

    renamed = str(tmp_path / 'renamed.pth')
    torch.save(
        dict(
            state_dict={
                key.replace('head.fc', 'head.linear'): value
                for key, value in state.items()
            }), renamed)
    with pytest.raises(
            ValueError,
            match=r"2 missing keys \['head.fc.bias', "
            r"'head.fc.weight'\], 2 unexpected keys"):
        _build(teacher_ckpt=renamed)
    relaxed = _build(teacher_ckpt=renamed, teacher_ckpt_strict=False)
    torch.testing.assert_close(relaxed.teacher.backbone.conv1.weight,
                               state['backbone.conv1.weight'])

    student_shaped = str(tmp_path / 'student.pth')
    torch.save(dict(state_dict=source.student.state_dict()), student_shaped)
    with pytest.raises(ValueError, match='shape mismatches'):
        _build(teacher_ckpt=student_shaped, teacher_ckpt_strict=False)

    with pytest.raises(FileNotFoundError, match='absent.pth'):
        _build(teacher_ckpt=str(tmp_path / 'absent.pth'))


def test_resolution_larger_than_cams_fails_at_first_step():
    """A CAM resolution larger than the 4x4 student map names the shape."""
    model = _build(distiller=_distiller(resolution=8))
    with pytest.raises(ValueError, match='CAM resolution 8 is larger'):
        model.loss(*_batch())


def test_step_cat_loss_equals_eq5_on_cams_computed_by_hand():
    """distill.loss_cat of a step equals beta * mean((norm(pool(CAM_S)) -
    norm(pool(CAM_T)))^2) with both models' CAMs computed by hand from
    their last feature map and fc weights (student: CAMClsHead; teacher:
    GAP + LinearClsHead), for beta 2.5 and r 2."""
    model = _build(distiller=_distiller(loss_weight=2.5, resolution=2))
    images, samples = _batch()
    losses = model.loss(images, samples)
    with torch.no_grad():
        expected = cat_by_hand(
            cams_by_hand(model.student, images),
            cams_by_hand(model.teacher, images), 2.5, 2)
    assert float(expected) > 0
    torch.testing.assert_close(
        losses['distill.loss_cat'].detach(), expected, rtol=1e-5, atol=0)
