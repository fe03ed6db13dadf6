"""Train a model (plain MMPretrain or an MMRazor distillation) with MMEngine.

    python tools/train.py configs/catkd_r34_r18_imagenet.py
    python tools/train.py CONFIG --resume            # latest checkpoint
    tools/dist_train.sh CONFIG 8                     # 8 GPUs, one node

Every run is made crash-safe and exactly resumable (mmcatkd.engine, see
docs/reliability.md); bad input ends with one sentence, not a traceback.
A new run never starts over another run's checkpoints (--resume it, or
--force), and two runs never share a work directory (mmcatkd.engine.work_dir).
"""
from mmcatkd.cli.train import main

if __name__ == '__main__':
    main()
