"""Draw the class activation maps of a classifier's top-k classes.

CAT-KD (Guo, Yan, Li, Lin, CVPR 2023, https://arxiv.org/abs/2304.12777)
transfers class activation maps; this tool shows them: Fig. 2 (top-k CAMs),
Fig. 6 (``--binarize``) and Fig. 5 (a teacher's and a student's rows).

    python tools/visualize_cam.py CONFIG CKPT a.png b.png --topk 4 \
        --out cams.png [--binarize] [--teacher-config T --teacher-ckpt TC]

CONFIG is a classifier config or a distillation config; for the latter the
student is drawn, and the teacher too when the checkpoint holds its weights
(CATDistill checkpoints do) and no --teacher-config is given. Images go
through the config's test pipeline (``LoadImageFromFile`` is added when the
pipeline lacks it). Checkpoints load through MMEngine's ``load_checkpoint``
(the safe, weights_only loader), see :mod:`mmcatkd.apis`.
"""
import os

# before torch loads: see mmcatkd/cli/demo.py
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmcatkd.cli.visualize_cam import main  # noqa: E402

if __name__ == '__main__':
    main()
