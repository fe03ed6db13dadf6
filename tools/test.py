"""Evaluate a checkpoint on the test set of a config.

    python tools/test.py CONFIG CHECKPOINT [--out results.pkl]
    tools/dist_test.sh CONFIG CHECKPOINT 8
"""
from mmcatkd.cli.test import main

if __name__ == '__main__':
    main()
