"""Test-only hook that writes the hooks a run trains with (child processes
import this module through ``custom_imports``)."""
import json
import os.path as osp

from mmengine.hooks import Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class HooksRecorder(Hook):
    """Writes ``hooks.json`` into the work directory before training: the
    class name and priority of every hook of the runner, in the order the
    runner calls them (so hooks registered after the Runner was built, which
    its logged table leaves out, are listed too)."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        hooks = [[type(hook).__name__, hook.priority] for hook in runner.hooks]
        with open(osp.join(runner.work_dir, 'hooks.json'), 'w') as f:
            json.dump(hooks, f)
