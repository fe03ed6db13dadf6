"""Write the student of a distillation checkpoint as a plain MMPretrain one.

    python tools/export_student.py work_dirs/catkd/epoch_240.pth student.pth

The output holds only the student's weights (keys without ``architecture.``;
no teacher, no optimizer state), loadable by ``tools/test.py`` with the
student's own config and by a plain MMPretrain ``ImageClassifier``. A
bias-free CAT-KD classifier gets a zero bias, so that the checkpoint loads
strictly into a ``LinearClsHead`` model as well.
"""
import argparse
import os.path as osp
from collections import OrderedDict

import mmcatkd  # noqa: F401  (safe checkpoint loader, first)
from mmengine.runner.checkpoint import _load_checkpoint

from mmcatkd.apis.loading import STUDENT_PREFIX
from mmcatkd.utils.atomic_file import atomic_torch_save
from mmcatkd.engine.cli import entry_point
from mmcatkd.utils import strip_prefix
from mmcatkd.utils.errors import ConfigError, ConfigKeyError

# meta entries describing the data or the run, still true of the student alone
KEPT_META = ('dataset_meta', 'epoch', 'iter', 'seed', 'experiment_name',
             'mmengine_version', 'time')


def student_checkpoint(checkpoint: dict) -> dict:
    """``{'state_dict', 'meta'}`` of the student in a distillation checkpoint.

    Raises:
        KeyError: the checkpoint holds no ``architecture.*`` weights (it is
            not a MMRazor distillation checkpoint).
    """
    state = checkpoint.get('state_dict', checkpoint)
    student_state = OrderedDict(strip_prefix(state, STUDENT_PREFIX))
    if not student_state:
        raise ConfigKeyError(
            'no student weights (keys starting with "architecture.") in the '
            'checkpoint: is it a distillation checkpoint?')
    add_zero_head_bias(student_state)
    meta = {
        key: value
        for key, value in checkpoint.get('meta', {}).items()
        if key in KEPT_META
    }
    return dict(state_dict=student_state, meta=meta)


def add_zero_head_bias(state: dict) -> None:
    """Give a bias-free classifier (``CAMClsHead(bias=False)``, the paper's
    CAT-KD students) a zero ``head.fc.bias`` (K,), in place, so that the
    checkpoint loads strictly into a plain ``LinearClsHead`` model with the
    same logits."""
    weight = state.get('head.fc.weight')
    if weight is not None and 'head.fc.bias' not in state:
        state['head.fc.bias'] = weight.new_zeros(weight.shape[0])


def check_output(checkpoint: str, out: str) -> None:
    """Refuse an output that would replace the input or is a directory."""
    if osp.isdir(out):
        raise IsADirectoryError(
            f'the output {out} is a directory: give a file name, e.g. '
            f'{osp.join(out, "student.pth")}.')
    if osp.realpath(out) == osp.realpath(checkpoint) or (
            osp.exists(out) and osp.exists(checkpoint)
            and osp.samefile(out, checkpoint)):
        raise ConfigError(
            f'the output {out} is the input checkpoint: writing the student '
            'over it would lose the distillation checkpoint; give another '
            'output file.')


@entry_point
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='distillation checkpoint')
    parser.add_argument('out', help='where to write the student checkpoint')
    args = parser.parse_args(argv)
    check_output(args.checkpoint, args.out)
    exported = student_checkpoint(
        _load_checkpoint(args.checkpoint, map_location='cpu'))
    atomic_torch_save(exported, args.out)
    print(f'wrote {len(exported["state_dict"])} student tensors to '
          f'{args.out}')


if __name__ == '__main__':
    main()
