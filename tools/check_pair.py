"""Can this teacher and this student do CAT-KD, at what cost, with which beta?

    python tools/check_pair.py TEACHER_CONFIG STUDENT_CONFIG \\
        [--teacher-ckpt T.pth] [--input-size 32] [--no-timing]
    python tools/check_pair.py \\
        mmpretrain::swin_transformer/swin-tiny_16xb64_in1k.py \\
        mmpretrain::resnet/resnet18_8xb32_in1k.py --no-timing
    python tools/check_pair.py --teacher-ckpt resnet32x4.pth --iters 782 \\
        --data-config \\
        configs/catkd/catkd_resnet32x4_resnet8x4_1xb64_cifar100.py

Configs are local files or packaged ones (``mmpretrain::...``) defining
``model`` (an ``ImageClassifier``), or timm models
(``timm://resnet50.a1_in1k``, random weights: nothing is downloaded).
For each model the table says where its
class activation maps come from and whether they are exact (logits equal
GAP(CAM) + b on a random batch in float64, within 1e-5; else why not), their
size at the config's input size, parameters and multiply-adds; then the CAT
resolutions the pair allows, whether the class counts agree, and the time of
one CAT-KD training step next to the student alone (mmcatkd.benchmark).
Exits with status 1 and one sentence when the pair cannot do CAT-KD.

``--data-config CONFIG --iters N`` then runs the automatic-beta window of
``CATLoss(loss_weight='auto')`` for N iterations on CONFIG's training data,
optimiser and schedule (the student's weights change in memory as in the
run; nothing is saved) and prints the beta a run with ``auto_iters=N``
would fix, next to the config's own beta. CONFIG is a CAT-KD config (its
teacher, student and CAT options are used unless the two positional configs
are given) or any training config of the student (CAT at r=2 on raw CAMs,
as the authors' CAT-KD configs). ``--cfg-options KEY=VALUE ...`` overrides
entries of CONFIG, as in tools/train.py (e.g. ``model.teacher_ckpt=None``
for a random teacher, ``train_dataloader.dataset.data_root=...``).
"""
import os
import sys

# before torch loads: see mmcatkd/cli/demo.py
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmcatkd.cli.check_pair import main  # noqa: E402

if __name__ == '__main__':
    sys.exit(main())
