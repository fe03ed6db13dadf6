"""tools/linear_probe.py: a new linear head on a frozen student (CAT-KD
Table 9's protocol), on the digits data."""
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmpretrain.registry import MODELS as PRETRAIN_MODELS

from mmcatkd.cli import linear_probe as linear_probe_tool
from tests.conftest import PROJECT_ROOT, TEST_CONFIGS

linear_probe = linear_probe_tool.linear_probe
main = linear_probe_tool.main

STUDENT = osp.join(TEST_CONFIGS, 'tiny_student.py')
PROBE = osp.join(PROJECT_ROOT, 'configs', 'demo', '_base_',
                 'probe_digits_5-9.py')


def test_only_the_head_trains_and_accuracy_is_reported(tmp_path, capsys,
                                                       monkeypatch):
    """After probing on digits 5-9 the backbone's weights and BatchNorm
    statistics equal the checkpoint's, the head is a new 5-way layer that
    moved from its initialisation, and a top-1 is reported (above the 20 %
    of chance: the probe learned something from frozen features)."""
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        student = PRETRAIN_MODELS.build(
            Config.fromfile(STUDENT).model.to_dict())
    student.init_weights()
    ckpt = str(tmp_path / 'student.pth')
    torch.save(dict(state_dict=student.state_dict()), ckpt)

    initial_fc = {}
    original_linear = torch.nn.Linear.__init__

    def record_init(self, *args, **kwargs):
        original_linear(self, *args, **kwargs)
        initial_fc['weight'] = self.weight.detach().clone()

    # remember the new head's initial weights
    monkeypatch.setattr(torch.nn.Linear, '__init__', record_init)
    result = linear_probe(
        STUDENT, ckpt, PROBE, epochs=2, lr=0.1, batch_size=64)
    monkeypatch.undo()
    probed = result['model']
    for key, value in student.backbone.state_dict().items():
        assert torch.equal(probed.backbone.state_dict()[key], value), key
    fc = probed.head.fc
    assert fc.out_features == result['num_classes'] == 5
    assert not torch.equal(fc.weight.detach(), initial_fc['weight'])
    assert 20 < result['top1'] <= 100

    # the command line prints the accuracy and saves the probed model
    out = str(tmp_path / 'probe.pth')
    main([
        STUDENT, ckpt, '--probe-config', PROBE, '--epochs', '1', '--out', out
    ])
    assert 'linear probe top-1' in capsys.readouterr().out
    saved = torch.load(out, weights_only=True)
    assert saved['state_dict']['head.fc.weight'].shape[0] == 5
