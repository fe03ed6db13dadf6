"""Write the student of a distillation checkpoint as a plain MMPretrain one.

    python tools/export_student.py work_dirs/catkd/epoch_240.pth student.pth

The output holds only the student's weights (keys without ``architecture.``;
no teacher, no optimizer state), loadable by ``tools/test.py`` with the
student's own config and by a plain MMPretrain ``ImageClassifier``. A
bias-free CAT-KD classifier gets a zero bias, so that the checkpoint loads
strictly into a ``LinearClsHead`` model as well.
"""
from mmcatkd.cli.export_student import main

if __name__ == '__main__':
    main()
