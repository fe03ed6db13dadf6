"""Run the training loss once on one sample before the first step."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from .rng_state_hook import preserved_rng_state


class PreflightError(RuntimeError):
    """The model and the training data do not fit together."""


def preflight_check(model: torch.nn.Module, dataloader) -> None:
    """Compute the training loss of ``model`` on the first training sample.

    The model runs in eval mode under ``no_grad`` (no batch-norm statistics
    move, no gradients), and the random generators are left as they were,
    so training afterwards is the same as without the check.

    Raises:
        PreflightError: anything the loss raises, e.g. a CAM resolution
            larger than the CAMs of the training images, a label outside the
            classifier, a class-selection larger than the class count.
    """
    was_training = model.training
    with preserved_rng_state():
        batch = dataloader.collate_fn([dataloader.dataset[0]])
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
            raise PreflightError(
                f'training cannot start: the loss fails on the first training '
                f'sample (input {size} after the pipeline): {err}') from err
        finally:
            model.train(was_training)


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
        preflight_check(model, runner.train_dataloader)
