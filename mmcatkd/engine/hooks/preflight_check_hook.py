"""Run the training loss once on one sample before the first step."""
import os
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...utils.errors import UserError
from ..user_errors import user_error_message
from .rng_state_hook import preserved_rng_state


class PreflightError(UserError, RuntimeError):
    """The model and the training data do not fit together."""


def _preflight_error(err: Exception, failed: str,
                     step: str) -> Optional[PreflightError]:
    """``PreflightError('training cannot start: <failed>: <sentence>')``
    for a user's mistake. None for a bug (nothing :func:`user_error_message`
    recognises), which gets a note naming the step that ran it and is to be
    raised as it is, with its own traceback."""
    message = user_error_message(err)
    if message is None:
        if hasattr(err, 'add_note'):  # Python >= 3.11
            err.add_note(f'(raised by mmcatkd\'s preflight check: {step}, '
                         'before the first training step)')
        return None
    return PreflightError(f'training cannot start: {failed}: {message}')


def _check_has_labels(model: torch.nn.Module, batch) -> None:
    """Unlabelled samples for a loss that needs labels: say what to do
    (the loss would fail on a missing ``gt_label`` attribute)."""
    samples = batch.get('data_samples') if isinstance(batch, dict) else None
    if not samples or all('gt_label' in sample for sample in samples):
        return
    if getattr(model, 'calculate_student_loss', None) is True:
        raise PreflightError(
            'training cannot start: the training samples have no labels '
            '(gt_label) and the student\'s own loss needs them: distill '
            'without labels with model.calculate_student_loss=False (CAT '
            'alone), or give labelled data.')
    if not hasattr(model, 'calculate_student_loss'):
        raise PreflightError(
            'training cannot start: the training samples have no labels '
            '(gt_label), which the classifier\'s loss needs: give labelled '
            'data.')


def preflight_check(model: torch.nn.Module, dataloader) -> None:
    """Compute the training loss of ``model`` on the first training sample.

    The model runs in eval mode under ``no_grad`` (no batch-norm statistics
    move, no gradients), and the random generators are left as they were,
    so training afterwards is the same as without the check.

    Raises:
        PreflightError: a user's mistake the loss or the data loading
            raises, e.g. a CAM resolution larger than the CAMs of the
            training images, a label outside the classifier, a
            class-selection larger than the class count, a missing image.
            Any other exception (a bug, ours or in a custom module) is
            raised as it is, with its traceback.
    """
    was_training = model.training
    with preserved_rng_state():
        try:
            sample = dataloader.dataset[0]
        except Exception as err:
            problem = _preflight_error(
                err, 'the first training sample cannot be loaded',
                'the first training sample, loaded')
            if problem is None:
                raise
            raise problem from err
        batch = dataloader.collate_fn([sample])
        _check_has_labels(model, batch)
        data = model.data_preprocessor(batch, False)
        inputs = data['inputs'] if isinstance(data, dict) else data[0]
        model.eval()
        try:
            with torch.no_grad():
                if isinstance(data, dict):
                    model(**data, mode='loss')
                else:
                    model(*data, mode='loss')
        except Exception as err:
            size = 'x'.join(str(side) for side in inputs.shape[1:])
            problem = _preflight_error(
                err, 'the loss fails on the first training sample (input '
                f'{size} after the pipeline)', 'the training loss on the '
                f'first training sample, input {size}, in eval mode')
            if problem is None:
                raise
            raise problem from err
        finally:
            model.train(was_training)


def _num_classes(model: torch.nn.Module):
    """The class count of the (student) classifier's head, or None."""
    classifier = getattr(model, 'architecture', model)
    return getattr(getattr(classifier, 'head', None), 'num_classes', None)


def check_labels(dataset, num_classes: int) -> None:
    """Raise :class:`PreflightError` at the first single-label sample whose
    label is outside ``[0, num_classes)``, naming its file (and its line of
    the annotation file). Reads the annotations only, no image."""
    if not (hasattr(dataset, 'get_data_info') and hasattr(dataset, '__len__')):
        return  # no annotations to read without loading the samples
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        label = info.get('gt_label')
        if hasattr(label, 'ndim') and label.ndim == 0:
            label = label.item()
        if (isinstance(label, int) and not isinstance(label, bool)
                and not 0 <= label < num_classes):
            ann_file = getattr(dataset, 'ann_file', '')
            where = (f'line {index + 1} of {ann_file}, '
                     if ann_file and os.path.isfile(ann_file) else '')
            raise PreflightError(
                f'training cannot start: sample {index} ({where}'
                f'{info.get("img_path", "no image path")}) has label {label}, '
                f'outside the {num_classes} classes of the model: fix the '
                'annotation or the num_classes of the model\'s head.')


@HOOKS.register_module()
class PreflightCheckHook(Hook):
    """Fail before the first training step when the model cannot train.

    Some configuration errors show only with real data: a CAM resolution
    larger than the CAMs of the training image size, class selection larger
    than the classes, a wrong image size for a backbone. Without this hook
    they stop the run at the first step, after the teacher, data and
    workers have been set up, with a traceback from inside the loss. In
    ``before_train`` (after resuming) this hook calls :func:`preflight_check`
    on the unwrapped model and the first sample of the training set. Data
    loading errors in that sample (missing or corrupt image) surface here
    too. Costs one forward pass of teacher and student on one image.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        num_classes = _num_classes(model)
        if isinstance(num_classes, int):
            check_labels(runner.train_dataloader.dataset, num_classes)
        preflight_check(model, runner.train_dataloader)
