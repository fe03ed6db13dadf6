"""MMEngine 0.10.7 formats a config's text with yapf at every
``Config.pretty_text``, several times per run on the same text; the
formatting is memoised, so the same text is formatted once.

For: MMEngine 0.10.x, whose ``Config.pretty_text`` builds the config's
Python text and passes it to yapf's ``FormatCode`` on every access: the log
at Runner start, the dumped config, and the ``meta`` of every checkpoint
(``Runner.save_checkpoint``) each format it again.

Symptom without it: 0.3 s (a CIFAR config) to 1.2 s (an ImageNet
distillation config) of CPU per access; a short run spends about half its
time in yapf, a long run about a second per saved checkpoint.

What it does: ``mmengine.config.config.FormatCode`` (MMEngine's reference
to yapf's function) is replaced by the same function behind a small cache
keyed by the text and the style. yapf's formatting is a pure function of
those, so every result is the one yapf returns; nothing else changes.

Detection, and how to tell it can go: :func:`formats_on_every_access`
checks that MMEngine's config module still calls yapf's ``FormatCode``
itself. Where MMEngine stops formatting with yapf or caches the text,
:func:`apply` does nothing and this module can be deleted.
"""
import functools
import json

NAME = 'config-text-cache'
#: formatted texts kept (a run formats one or two configs)
CACHE_SIZE = 16


def formats_on_every_access() -> bool:
    """Whether MMEngine's ``Config.pretty_text`` calls yapf's
    ``FormatCode`` directly (MMEngine 0.10.x does)."""
    from mmengine.config import config
    formatter = getattr(config, 'FormatCode', None)
    return formatter is not None and getattr(formatter, '__module__',
                                             '') == 'yapf.yapflib.yapf_api'


def memoised(format_code):
    """``format_code`` (yapf's ``FormatCode``) behind an LRU cache keyed by
    the source text and the style; calls with other arguments pass
    through."""

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def cached(source: str, style: str, verify: bool):
        kwargs = dict(style_config=json.loads(style))
        if verify:
            kwargs['verify'] = True
        return format_code(source, **kwargs)

    @functools.wraps(format_code)
    def format_code_once(source, *args, style_config=None, **kwargs):
        verify = kwargs.pop('verify', False)
        if args or kwargs or not isinstance(style_config, dict):
            if verify:
                kwargs['verify'] = verify
            return format_code(
                source, *args, style_config=style_config, **kwargs)
        try:
            style = json.dumps(style_config, sort_keys=True)
        except TypeError:  # not JSON: not cacheable
            return format_code(source, style_config=style_config)
        return cached(source, style, bool(verify))

    format_code_once.cache_info = cached.cache_info
    format_code_once.__module__ = __name__
    return format_code_once


def apply() -> bool:
    """Memoise MMEngine's config formatting where it formats on every
    access; whether it did."""
    if not formats_on_every_access():
        return False
    from mmengine.config import config
    config.FormatCode = memoised(config.FormatCode)
    return True
