"""Turn on mmcatkd's reliability hooks in a training config.

``tools/train.py`` calls :func:`enable_reliability` on every config, so that
every run it starts is crash-safe and resumes exactly. A config run by
another entry point gets the same by listing the hooks itself::

    default_hooks = dict(checkpoint=dict(type='CrashSafeCheckpointHook', ...))
    custom_hooks = [dict(type='RNGStateHook'), dict(type='NonFiniteLossHook'),
                    dict(type='PreflightCheckHook'),
                    dict(type='CheckpointMatchHook'),
                    dict(type='ResumeCheckHook'),
                    dict(type='BroadcastBuffersHook')]
"""
from mmengine.config import Config

RELIABILITY_HOOKS = ('RNGStateHook', 'NonFiniteLossHook', 'PreflightCheckHook',
                     'CheckpointMatchHook', 'ResumeCheckHook',
                     'BroadcastBuffersHook')


def _hook_name(hook) -> str:
    hook_type = hook.get('type') if isinstance(hook, dict) else hook
    name = hook_type if isinstance(hook_type, str) else getattr(
        hook_type, '__name__', '')
    return name.split('.')[-1]


def enable_reliability(cfg: Config) -> Config:
    """Add the reliability hooks to ``cfg`` (in place; returned too).

    - ``default_hooks.checkpoint`` of type ``CheckpointHook`` becomes a
      :class:`CrashSafeCheckpointHook` with the same arguments (a checkpoint
      hook of any other type is kept as it is);
    - :class:`RNGStateHook`, :class:`NonFiniteLossHook`,
      :class:`PreflightCheckHook`, :class:`CheckpointMatchHook`,
      :class:`ResumeCheckHook` and :class:`BroadcastBuffersHook` are
      appended to ``custom_hooks`` unless already listed.
    """
    checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
    if isinstance(checkpoint,
                  dict) and _hook_name(checkpoint) in ('CheckpointHook', ''):
        checkpoint['type'] = 'CrashSafeCheckpointHook'
    custom_hooks = list(cfg.get('custom_hooks') or [])
    listed = {_hook_name(hook) for hook in custom_hooks}
    custom_hooks += [
        dict(type=name) for name in RELIABILITY_HOOKS if name not in listed
    ]
    cfg.custom_hooks = custom_hooks
    return cfg
