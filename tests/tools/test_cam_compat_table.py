"""docs/cam_compatibility.md stays true: the status and details it states
for a model family are what checking that family again gives."""
import re

import pytest

from mmcatkd.apis import cam_compat
from mmcatkd.cli import cam_compat_table as cam_compat_table_tool
from mmcatkd.models.cams import classifier_of

# small models covering the three outcomes: as is, after a config change
# (stacked head; norm after pooling; class-token head), and refused; timm's
# as is (RegNetY) and refused (MLP head, class token)
SAMPLE = [
    'MobileNetV2', 'MobileNetV3', 'ConvNeXt V2', 'DeiT', 'LeViT',
    'timm RegNetY', 'timm MobileNetV3', 'timm ViT'
]


@pytest.mark.slow
def test_sampled_rows_of_the_table_are_true():
    """Each sampled family, checked again now, gets the status and details
    the committed table states (exactness measured, not copied; the
    float64 rounding error itself, ~1e-15, varies with the machine)."""
    tool = cam_compat_table_tool
    with open(tool.DOC) as f:
        table = tool.parse_rows(f.read())
    assert len(table) == len(cam_compat.FAMILIES) + len(
        cam_compat.TIMM_FAMILIES)
    families = {
        family.name: family
        for family in cam_compat.FAMILIES + cam_compat.TIMM_FAMILIES
    }
    for name in SAMPLE:
        check = (
            cam_compat.check_timm_family
            if name.startswith('timm ') else cam_compat.check_family)
        row = check(families[name])
        assert table[name]['status'] == row['status'], name
        assert _rounding(table[name]['detail']) == _rounding(row['detail'])


def _rounding(detail: str) -> str:
    return re.sub(r'max logit error [0-9.e+-]+', 'max logit error E', detail)


def test_refused_head_error_names_the_reason():
    """CAMRecorder's classifier lookup refuses MMPretrain's stacked head
    with one sentence saying why and what it accepts."""
    from mmpretrain.models.heads import StackedLinearClsHead
    head = StackedLinearClsHead(num_classes=3, in_channels=4, mid_channels=[5])
    with pytest.raises(TypeError) as error:
        classifier_of(head)
    message = str(error.value)
    assert 'StackedLinearClsHead cannot produce class activation maps' in (
        message)
    assert 'stacked MLP head' in message and 'CAMClsHead' in message
