"""Automatic beta against the demo's hand-chosen beta, on the digits.

For each number of labelled digits per class and each seed, two runs of
``tools/demo.py`` sharing one teacher: the hand-chosen beta (baseline,
CAT-KD, CAT alone) and ``--beta auto`` (CAT-KD, CAT alone). A finished run
(its results.json exists) is not run again, so the study can be stopped
and restarted. Writes ``summary.md`` (the table of docs/your_own_pair.md)
and ``summary.json`` in the work directory.

    python tools/beta_study.py                           # work_dirs/beta_study
    python tools/beta_study.py --per-class 10 3 --seeds 0 1 2 --beta 0.2
    python tools/beta_study.py --per-class 10 \\
        --teacher-config configs/demo/convnext-micro_1xb32_digits.py
"""
from mmcatkd.cli.beta_study import main

if __name__ == '__main__':
    main()
