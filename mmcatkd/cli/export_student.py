"""Write the student of a distillation checkpoint as a plain MMPretrain one.

    python tools/export_student.py work_dirs/catkd/epoch_240.pth student.pth

The output holds only the student's weights (keys without ``architecture.``;
no teacher, no optimizer state), loadable by ``tools/test.py`` with the
student's own config and by a plain MMPretrain ``ImageClassifier``. A
bias-free CAT-KD classifier gets a zero bias, so that the checkpoint loads
strictly into a ``LinearClsHead`` model as well.
"""
import argparse
from collections import OrderedDict

import mmcatkd  # noqa: F401  (safe checkpoint loader, first)
from mmcatkd.apis.loading import STUDENT_PREFIX
from mmcatkd.engine.cli import entry_point
from mmcatkd.utils import strip_prefix
from mmcatkd.utils.atomic_file import atomic_torch_save
from mmcatkd.utils.errors import ConfigKeyError
from mmcatkd.utils.mmengine_private import load_checkpoint_file
from mmcatkd.utils.output_paths import check_output_file

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


@entry_point
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('checkpoint', help='distillation checkpoint')
    parser.add_argument('out', help='where to write the student checkpoint')
    parser.add_argument(
        '--force',
        action='store_true',
        help='replace OUT if it exists (never the input checkpoint)')
    args = parser.parse_args(argv)
    check_output_file(
        args.out,
        dict(checkpoint=args.checkpoint),
        option='the output',
        force=args.force)
    exported = student_checkpoint(load_checkpoint_file(args.checkpoint))
    atomic_torch_save(exported, args.out)
    print(f'wrote {len(exported["state_dict"])} student tensors to '
          f'{args.out}')
