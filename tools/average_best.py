"""Average the best top-1 of several runs, as the CAT-KD paper reports.

    python tools/average_best.py work_dirs/catkd_r8x4_seed{0,1,2,3,4}

Guo et al. (CVPR 2023) report each run's best test top-1, on CIFAR-100 the
mean over 5 runs (github.com/GzyAftermath/CAT-KD/issues/7; how many runs
the ImageNet numbers average is not stated): the authors' trainer validates
every epoch and keeps ``best_acc``. Each work dir's best is read from the
validation scalars MMEngine logs
(``<work_dir>/<timestamp>/vis_data/scalars.json``; a resumed run's several
timestamps count as one run), with the top-5 of the same validation.
"""
from mmcatkd.cli.average_best import main

if __name__ == '__main__':
    main()
