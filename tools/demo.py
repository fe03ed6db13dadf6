"""`make demo`: a real CAT-KD experiment, offline, on a laptop CPU in minutes.

Data: scikit-learn's bundled handwritten digits
(mmcatkd.datasets.SklearnDigits, 1,198 train / 599 test real scans). Five
MMEngine runs in sequence, same seed and schedule for every student
(configs/demo/):

  1. teacher    ResNet-56 on all training digits (reused by later runs)
  2. baseline   ResNet-20 on 10 labelled digits per class, cross-entropy
  3. KD         + logit KD from the teacher (MMRazor's KLDivergence)
  4. CAT-KD     + beta * CAT (Guo et al., CVPR 2023, Eq. 6)
  5. CAT alone  CAT on the same 100 images, no labels

docs/demo.md explains the setting and the choice of beta.

Leaves results.md, results.json and cams.png in the work directory.

    python tools/demo.py                    # work_dirs/demo
    python tools/demo.py --retrain-teacher  # do not reuse the teacher
    python tools/demo.py --quick --work-dir /tmp/demo  # a few steps each

A saved teacher is reused when its record (teacher.json) says it was
trained with this run's settings; a --quick teacher is replaced. A
teacher.pth without a record, or a full teacher trained with other
settings, is replaced only with --retrain-teacher, and --quick never runs in
a work directory that holds a full run.

Options for studies on the same data (docs/your_own_pair.md):

    python tools/demo.py --beta auto --num-per-class 3 --seed 1 \
        --stages catkd,cat_only --teacher-dir work_dirs/demo/teacher \
        --work-dir work_dirs/auto3_s1
    python tools/demo.py \\
        --teacher-config configs/demo/convnext-micro_1xb32_digits.py
    python tools/demo.py --teacher-cams     # CAT students without the teacher
"""
import os

# before torch loads: see mmcatkd/cli/demo.py
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmcatkd.cli.demo import main  # noqa: E402

if __name__ == '__main__':
    main()
