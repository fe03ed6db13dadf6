"""What the paper reports, reported the same way: each run's best top-1
(BestScoreLoggerHook at the end of training) and their mean over runs
(tools/average_best.py)."""
import json
import logging
from types import SimpleNamespace

import pytest
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub

from mmcatkd.cli import average_best as average_best_tool
from mmcatkd.engine.hooks import BestScoreLoggerHook


def _write_run(work_dir, *validations, timestamp='20260101_000000'):
    vis = work_dir / timestamp / 'vis_data'
    vis.mkdir(parents=True)
    lines = [dict(lr=0.05, loss=1.0, step=1)]  # a training record
    lines += [
        dict(step=epoch, **{
            'accuracy/top1': top1,
            'accuracy/top5': top5
        })  # noqa: E501
        for epoch, top1, top5 in validations
    ]
    (vis /
     'scalars.json').write_text('\n'.join(json.dumps(line)
                                          for line in lines) + '\n')


def test_average_best_takes_each_runs_best_epoch(tmp_path, capsys):
    """Run A peaks before its last epoch (76.0 at epoch 2, not the final
    75.5); run B's best spans a resume (two timestamps). The mean is of the
    bests: (76.0 + 77.0) / 2."""
    run_a, run_b = tmp_path / 'a', tmp_path / 'b'
    _write_run(run_a, (1, 70.0, 90.0), (2, 76.0, 93.0), (3, 75.5, 93.5))
    _write_run(run_b, (1, 71.0, 91.0), timestamp='20260101_000000')
    _write_run(run_b, (2, 77.0, 94.0), timestamp='20260102_000000')
    runs = average_best_tool.main([str(run_a), str(run_b)])
    assert [(run['best'], run['step'], run['top5'])
            for run in runs] == [(76.0, 2, 93.0), (77.0, 2, 94.0)]
    assert 'mean of 2 runs: 76.50 (std 0.71)' in capsys.readouterr().out


def test_average_best_without_logs_says_what_to_give(tmp_path, capsys):
    with pytest.raises(SystemExit):
        average_best_tool.main([str(tmp_path)])
    assert 'holds no */vis_data/scalars.json' in capsys.readouterr().err


def test_hook_logs_the_best_score_checkpoint_hook_kept(caplog):
    """The line names the key, the best score (not the last) and its
    checkpoint, as CheckpointHook(save_best=...) stored them."""
    hub = MessageHub.get_instance('test_best_score_logger')
    hub.update_info('best_score', 76.0)
    hub.update_info('best_ckpt', 'work/best_accuracy_top1_epoch_2.pth')
    checkpoint = CheckpointHook(save_best='accuracy/top1', rule='greater')
    logger = logging.getLogger('test_best_score_logger')
    runner = SimpleNamespace(
        hooks=[checkpoint], message_hub=hub, logger=logger)
    with caplog.at_level(logging.INFO, logger=logger.name):
        BestScoreLoggerHook().after_train(runner)
    assert caplog.messages == [
        'best accuracy/top1 of this run: 76.0000 (checkpoint '
        'work/best_accuracy_top1_epoch_2.pth)'
    ]
