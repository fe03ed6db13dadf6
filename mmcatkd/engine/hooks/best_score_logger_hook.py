"""Log a run's best validation score when training ends (what the papers
report)."""
from mmengine.hooks import CheckpointHook, Hook
from mmengine.registry import HOOKS


@HOOKS.register_module()
class BestScoreLoggerHook(Hook):
    """Logs, after the last epoch, the best score ``CheckpointHook`` kept.

    Guo et al. (CVPR 2023) report for each run its best test top-1 (the
    authors' trainer keeps ``best_acc``), averaged over 5 runs on CIFAR-100;
    how many runs the ImageNet numbers average is not stated.
    ``CheckpointHook(save_best=...)`` keeps that checkpoint; this hook
    writes one line with its score and path at the end, and
    ``tools/average_best.py`` averages several work dirs the same way.
    """

    priority = 'LOWEST'

    def after_train(self, runner) -> None:
        checkpoint_hooks = [
            hook for hook in runner.hooks if isinstance(hook, CheckpointHook)
            and getattr(hook, 'key_indicators', None)
        ]
        if not checkpoint_hooks:
            runner.logger.warning(
                'no best score to report: set default_hooks.checkpoint.'
                "save_best (e.g. 'accuracy/top1').")
            return
        indicators = checkpoint_hooks[0].key_indicators
        info = runner.message_hub.runtime_info
        for indicator in indicators:
            suffix = '' if len(indicators) == 1 else f'_{indicator}'
            score = info.get(f'best_score{suffix}')
            if score is None:
                runner.logger.warning(f'no {indicator} was validated.')
                continue
            runner.logger.info(
                f'best {indicator} of this run: {score:.4f} (checkpoint '
                f'{info.get(f"best_ckpt{suffix}")})')
