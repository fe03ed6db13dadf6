"""MMEngine's CheckpointHook made safe against being killed while saving."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.registry import HOOKS
from mmengine.runner import find_latest_checkpoint

from ...utils.atomic_file import atomic_write
from ...utils.errors import UserError
from ...utils.mmengine_private import StepCheckpointHook


class CheckpointWriteError(UserError, OSError):
    """A checkpoint could not be written (disk full, no permission)."""


@HOOKS.register_module()
class CrashSafeCheckpointHook(StepCheckpointHook):
    """``CheckpointHook`` that never leaves the run without a good checkpoint.

    Same arguments and files as MMEngine's ``CheckpointHook``; three changes
    in when things reach the disk, so that killing the process at any moment
    (pre-emption, OOM killer, SIGKILL) leaves ``last_checkpoint`` naming a
    complete checkpoint:

    1. checkpoints in a local directory are written through
       :class:`~mmcatkd.utils.atomic_file.AtomicLocalBackend`: a temporary
       file, ``fsync``, then ``os.replace`` onto the final name, so
       ``epoch_N.pth`` either does not exist or is complete;
    2. ``last_checkpoint`` is rewritten (also atomically) only after the new
       checkpoint is in place;
    3. with ``max_keep_ckpts``, the oldest checkpoint is deleted only after
       that, not before the new one is written as MMEngine does (which, with
       ``max_keep_ckpts=1``, leaves nothing to resume from when killed
       mid-save). A kill between the rename and the deletion leaves one
       extra old checkpoint on disk.

    A save that fails (disk full) removes its partial file and raises
    :class:`CheckpointWriteError`, naming the checkpoint that is intact.

    Remote ``out_dir`` (``backend_args`` given, or an URI) is left to its
    backend: object stores replace objects atomically. The deprecated
    ``file_client_args`` path is not made atomic. ``tools/train.py`` uses
    this hook in place of ``CheckpointHook``; other entry points select it
    with ``default_hooks.checkpoint.type='CrashSafeCheckpointHook'``.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if (self.file_client_args is None and self.backend_args is None
                and type(self.file_backend) is LocalBackend):
            self.backend_args = dict(backend='local_atomic')
            self.file_backend = get_file_backend(
                self.out_dir, backend_args=self.backend_args)

    def save_step(self, runner, step: int, meta: dict) -> None:
        # MMEngine's order, except that the file leaving the keep window is
        # deleted last. keep_ckpt_ids and last_ckpt are still recorded
        # before saving: the message hub inside the checkpoint must list
        # the checkpoint itself, for a later resume to manage the window.
        retired_step = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                retired_step = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        try:
            runner.save_checkpoint(
                self.out_dir,
                ckpt_filename,
                self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler,
                meta=meta,
                by_epoch=self.by_epoch,
                backend_args=self.backend_args,
                **self.args)
        except OSError as err:
            intact_ckpt = find_latest_checkpoint(runner.work_dir)
            intact = (f'{intact_ckpt} (named by last_checkpoint) is intact: '
                      'make room and resume from it with --resume'
                      if intact_ckpt else 'no earlier checkpoint of this '
                      'run exists: make room and start again')
            raise CheckpointWriteError(
                f'could not write the checkpoint {self.last_ckpt} '
                f'({err.strerror or err}); its partial file was removed and '
                f'{intact}.') from err

        if not is_main_process():
            return
        atomic_write(self.last_ckpt,
                     osp.join(runner.work_dir, 'last_checkpoint'))
        if retired_step is not None:
            self._remove_checkpoint(retired_step)

    def _remove_checkpoint(self, step: int) -> None:
        path = self.file_backend.join_path(self.out_dir,
                                           self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed saves directories
            self.file_backend.rmtree(path)
