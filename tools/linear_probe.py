"""Linear probe: how well a trained student's features transfer (CAT-KD
Table 9, after CRD).

Guo, Yan, Li, Lin, CVPR 2023, https://arxiv.org/abs/2304.12777, Table 9:
the student's backbone is frozen and a new linear classifier is trained on
another data set; its top-1 accuracy measures the transferred features.

    python tools/linear_probe.py CONFIG CKPT --probe-config DATA_CFG \
        [--epochs 10] [--lr 0.1] [--batch-size 64] [--out probe.pth]

CONFIG/CKPT: a classifier or distillation config and its checkpoint (the
student is probed; see tools/visualize_cam.py). DATA_CFG: a config with
``train_dataloader`` and ``val_dataloader`` of the probe data set (e.g.
configs/demo/_base_/probe_digits_5-9.py); its number of classes sets the
new head's. The backbone runs in eval mode (its BatchNorm statistics do not
move) under ``no_grad``; only the new ``head.fc`` is trained, by SGD with a
cosine schedule, on the student's own input normalisation.
"""
import os

# before torch loads: see mmcatkd/cli/demo.py
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmcatkd.cli.linear_probe import main  # noqa: E402

if __name__ == '__main__':
    main()
