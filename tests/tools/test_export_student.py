"""tools/export_student.py on a CAT-KD student with the paper's bias-free
classifier: the exported checkpoint loads strictly into a plain MMPretrain
model (GAP + LinearClsHead, zero bias) and gives the student's logits."""
import torch
from mmengine.runner import load_checkpoint
from mmpretrain.registry import MODELS

from mmcatkd.cli import export_student as export_student_tool


def _classifier(head, neck=None):
    return MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(type='mmpretrain.CIFARResNet', arch='resnet8x4'),
            neck=neck,
            head=head)).eval()


def test_bias_free_student_exports_to_a_plain_linear_head(tmp_path):
    torch.manual_seed(0)
    student = _classifier(
        dict(type='CAMClsHead', num_classes=10, in_channels=256, bias=False))
    distill = {
        f'architecture.{key}': value
        for key, value in student.state_dict().items()
    }
    distill['teacher.head.fc.weight'] = torch.zeros(10, 256)
    source, out = str(tmp_path / 'distill.pth'), str(tmp_path / 'student.pth')
    torch.save(dict(state_dict=distill, meta=dict(epoch=3)), source)
    export_student_tool.main([source, out])

    plain = _classifier(
        dict(type='LinearClsHead', num_classes=10, in_channels=256),
        neck=dict(type='GlobalAveragePooling'))
    load_checkpoint(plain, out, strict=True)
    assert torch.equal(plain.head.fc.bias, torch.zeros(10))
    images = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            plain(images, mode='tensor'),
            student(images, mode='tensor'),
            atol=1e-5,
            rtol=0)
