"""An MMCV outside MMRazor 1.0's range stops the import with one sentence.

Not a workaround but a check that runs first: MMRazor 1.0.0 asserts this
range at import time (``mmrazor/__init__.py``) with a bare
``AssertionError``. It also silences mmcv-lite's import warning about its
missing compiled ops, none of which distillation uses.
"""
import warnings

MMCV_MIN_VERSION = '2.0.0rc1'
MMCV_MAX_VERSION = '2.1.0'


def check_mmcv_version() -> None:
    """Raise ``ImportError`` naming the installed and the supported MMCV
    where they differ."""
    warnings.filterwarnings(
        'ignore', message='Fail to import ``MultiScaleDeformableAttention``')
    import mmcv
    from mmengine.utils import digit_version

    installed = digit_version(mmcv.__version__)
    if not (digit_version(MMCV_MIN_VERSION) <= installed <=
            digit_version(MMCV_MAX_VERSION)):
        raise ImportError(
            f'mmcatkd needs mmcv>={MMCV_MIN_VERSION},<={MMCV_MAX_VERSION} '
            f'(the range MMRazor 1.0 supports) but mmcv {mmcv.__version__} is '
            "installed: run `pip install 'mmcv-lite==2.1.0'` (distillation "
            'needs no compiled MMCV ops).')
