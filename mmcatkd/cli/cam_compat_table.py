"""Which MMPretrain and timm architecture families can be CAT-KD teachers
and students.

    python tools/cam_compat_table.py   # rewrites docs/cam_compatibility.md
    python tools/cam_compat_table.py --only ResNet Swin --print
    python tools/cam_compat_table.py --only 'timm ConvNeXt' --print

For one model of every family (its smallest ImageNet config, random
weights, a small input) it checks, as ``tools/check_pair.py`` does, whether
the logits equal GAP(CAM) + b (float64, 1e-5) as the config stands; if not
and a config change is known, it applies the change and checks again. A
model that passes can be either side of CAT-KD: teacher and student need the
same property (one linear classifier after average pooling of the last map).
"""
import argparse
import copy
import os.path as osp
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from mmcatkd.engine.cli import entry_point
from mmcatkd.utils.atomic_file import atomic_write
from mmcatkd.utils.project_files import project_root

PROJECT_ROOT = project_root()
DOC = osp.join(PROJECT_ROOT, 'docs', 'cam_compatibility.md')
INPUT_SIZE = 64
GAP = dict(type='GlobalAveragePooling')


@dataclass
class Family:
    name: str
    config: str  # under mmpretrain::
    small: Dict = field(default_factory=dict)  # backbone args for 64 px
    change: Optional[Dict] = None  # model overrides that give exact CAMs
    change_note: str = ''
    input_size: int = INPUT_SIZE


def linear_head(in_channels: int) -> Dict:
    return dict(
        type='LinearClsHead', num_classes=1000, in_channels=in_channels)


FAMILIES: List[Family] = [
    Family('ResNet', 'resnet/resnet18_8xb32_in1k.py'),
    Family('ResNeXt', 'resnext/resnext50-32x4d_8xb32_in1k.py'),
    Family('SE-ResNet', 'seresnet/seresnet50_8xb32_in1k.py'),
    Family('Res2Net', 'res2net/res2net50-w14-s8_8xb32_in1k.py'),
    Family('RegNet', 'regnet/regnetx-400mf_8xb128_in1k.py'),
    Family('RepVGG', 'repvgg/repvgg-A0_8xb32_in1k.py'),
    Family('MobileOne', 'mobileone/mobileone-s0_8xb32_in1k.py'),
    Family(
        'VGG',
        'vgg/vgg11_8xb32_in1k.py',
        input_size=224,
        change=dict(
            backbone=dict(num_classes=-1), neck=GAP, head=linear_head(512)),
        change_note='backbone without its classifier (num_classes=-1), GAP '
        'neck, one linear head: not the VGG classifier (3 FC layers), so '
        'its pretrained head does not load'),
    Family('DenseNet', 'densenet/densenet121_4xb256_in1k.py'),
    Family('MobileNetV2', 'mobilenet_v2/mobilenet-v2_8xb32_in1k.py'),
    Family(
        'MobileNetV3',
        'mobilenet_v3/mobilenet-v3-small_8xb128_in1k.py',
        change=dict(head=linear_head(576)),
        change_note='one linear head on the 576-channel map instead of '
        'the stacked 576-1024-1000 head: a different (smaller) model, its '
        'pretrained head does not load'),
    Family('ShuffleNetV1', 'shufflenet_v1/shufflenet-v1-1x_16xb64_in1k.py'),
    Family('ShuffleNetV2', 'shufflenet_v2/shufflenet-v2-1x_16xb64_in1k.py'),
    Family('EfficientNet', 'efficientnet/efficientnet-b0_8xb32_in1k.py'),
    Family('EfficientNetV2',
           'efficientnet_v2/efficientnetv2-b0_8xb32_in1k.py'),
    Family('CSPNet', 'cspnet/cspresnet50_8xb32_in1k.py'),
    Family('HRNet', 'hrnet/hrnet-w18_4xb32_in1k.py'),
    Family(
        'ConvNeXt',
        'convnext/convnext-tiny_32xb128_in1k.py',
        change=dict(backbone=dict(gap_before_final_norm=False), neck=GAP),
        change_note='gap_before_final_norm=False (the final LayerNorm on '
        'the map, before pooling) and a GAP neck; pretrained weights '
        'load unchanged, the logits change slightly'),
    Family(
        'ConvNeXt V2',
        'convnext_v2/convnext-v2-atto_32xb32_in1k.py',
        change=dict(backbone=dict(gap_before_final_norm=False), neck=GAP),
        change_note='as ConvNeXt'),
    Family(
        'EdgeNeXt',
        'edgenext/edgenext-xxsmall_8xb256_in1k.py',
        change=dict(backbone=dict(gap_before_final_norm=False), neck=GAP),
        change_note='as ConvNeXt'),
    Family(
        'HorNet',
        'hornet/hornet-tiny_8xb128_in1k.py',
        change=dict(backbone=dict(gap_before_final_norm=False), neck=GAP),
        change_note='as ConvNeXt'),
    Family('PoolFormer', 'poolformer/poolformer-s12_32xb128_in1k.py'),
    Family('VAN', 'van/van-tiny_8xb128_in1k.py'),
    # windows of 7 (8) tokens need the configs' own input size
    Family(
        'Swin', 'swin_transformer/swin-tiny_16xb64_in1k.py', input_size=224),
    Family(
        'Swin V2',
        'swin_transformer_v2/swinv2-tiny-w8_16xb64_in1k-256px.py',
        input_size=256),
    Family(
        'ViT',
        'vision_transformer/vit-base-p16_32xb128-mae_in1k.py',
        small=dict(img_size=INPUT_SIZE),
        change=dict(
            backbone=dict(out_type='featmap'), neck=GAP,
            head=linear_head(768)),
        change_note="out_type='featmap' (patch tokens after the final "
        'norm as the map), GAP neck, one linear head: the class-token '
        'head is replaced'),
    Family(
        'DeiT',
        'deit/deit-tiny_4xb256_in1k.py',
        small=dict(img_size=INPUT_SIZE),
        change=dict(
            backbone=dict(out_type='featmap'), neck=GAP,
            head=linear_head(192)),
        change_note='as ViT'),
    Family(
        'DeiT III',
        'deit3/deit3-small-p16_64xb64_in1k.py',
        small=dict(img_size=INPUT_SIZE),
        change=dict(
            backbone=dict(out_type='featmap'), neck=GAP,
            head=linear_head(384)),
        change_note='as ViT'),
    Family('Twins', 'twins/twins-svt-small_8xb128_in1k.py'),
    Family('DaViT', 'davit/davit-tiny_4xb256_in1k.py', input_size=224),
    Family(
        'TinyViT',
        'tinyvit/tinyvit-5m_8xb256_in1k.py',
        small=dict(img_size=(INPUT_SIZE, INPUT_SIZE)),
        change=dict(backbone=dict(gap_before_final_norm=False), neck=GAP),
        change_note='as ConvNeXt'),
    Family('MobileViT', 'mobilevit/mobilevit-xxsmall_8xb128_in1k.py'),
    Family(
        'MLP-Mixer',
        'mlp_mixer/mlp-mixer-base-p16_64xb64_in1k.py',
        small=dict(img_size=INPUT_SIZE)),
    Family(
        'Conformer',
        'conformer/conformer-tiny-p16_8xb128_in1k.py',
        small=dict()),
    Family(
        'LeViT',
        'levit/levit-128s_8xb256_in1k.py',
        small=dict(img_size=INPUT_SIZE)),
    Family(
        'EfficientFormer',
        'efficientformer/efficientformer-l1_8xb128_in1k.py',
        input_size=224),
]


@dataclass
class TimmFamily:
    name: str
    model: str  # timm's name
    kwargs: Dict = field(default_factory=dict)  # timm.create_model's
    change: Optional[Dict] = None  # kwargs that give exact CAMs
    change_note: str = ''
    input_size: int = INPUT_SIZE


TIMM_FAMILIES: List[TimmFamily] = [
    TimmFamily('timm ResNet', 'resnet18'),
    TimmFamily('timm ResNeXt', 'resnext26ts'),
    TimmFamily('timm SE-ResNet', 'seresnet18'),
    TimmFamily('timm RegNetX', 'regnetx_002'),
    TimmFamily('timm RegNetY', 'regnety_002'),
    TimmFamily('timm RepVGG', 'repvgg_a0'),
    TimmFamily('timm DenseNet', 'densenet121'),
    TimmFamily('timm MobileNetV2', 'mobilenetv2_050'),
    TimmFamily('timm MobileNetV3', 'mobilenetv3_small_050'),
    TimmFamily('timm EfficientNet', 'efficientnet_b0'),
    TimmFamily('timm EfficientNetV2', 'efficientnetv2_rw_t'),
    TimmFamily('timm CSPNet', 'cspresnet50'),
    TimmFamily('timm HRNet', 'hrnet_w18_small'),
    TimmFamily(
        'timm ConvNeXt',
        'convnext_atto',
        change=dict(head_norm_first=True),
        change_note='head_norm_first=True (the head LayerNorm on the '
        'map, before pooling): a different function, whose '
        "pretrained head norm does not load as timm's weights are"),
    TimmFamily('timm Swin', 'swin_tiny_patch4_window7_224', input_size=224),
    TimmFamily(
        'timm ViT', 'vit_tiny_patch16_224', kwargs=dict(img_size=INPUT_SIZE)),
    TimmFamily(
        'timm ViT, attention pooling',
        'vit_tiny_patch16_224',
        kwargs=dict(img_size=INPUT_SIZE, global_pool='map')),
    TimmFamily(
        'timm DeiT (distilled)',
        'deit_tiny_distilled_patch16_224',
        kwargs=dict(img_size=INPUT_SIZE)),
    TimmFamily('timm LeViT', 'levit_128s', input_size=224),
]


def check_timm_family(family: TimmFamily) -> Dict:
    """The table row of a timm ``family`` (random weights), as
    :func:`check_family`."""
    from mmcatkd.apis.pair_check import inspect_cams

    # rendered `model`, `key=value`...
    row = dict(
        family=family.name,
        config='`, `'.join([family.model] +
                           [f'{k}={v!r}' for k, v in family.kwargs.items()]))

    def report(extra):
        return inspect_cams(
            build(
                dict(
                    type='TimmImageClassifier',
                    model_name=family.model,
                    **family.kwargs,
                    **extra)), family.input_size)

    as_is = report({})
    if as_is.exact:
        row.update(status='yes, as is', detail=_size(as_is))
    elif family.change is None:
        row.update(status='no', detail=as_is.reason)
    else:
        changed = report(family.change)
        row.update(
            status='yes, after a config change' if changed.exact else 'no',
            detail=(f'{family.change_note}; {_size(changed)}. As is: '
                    f'{as_is.reason}') if changed.exact else
            f'{as_is.reason}; with the change: {changed.reason}')
    return row


def build(cfg_model: Dict):
    import torch

    from mmcatkd.apis.loading import build_classifier
    torch.manual_seed(0)
    return build_classifier(cfg_model)


def family_model_cfg(family: Family, changed: bool) -> Dict:
    """The family's model config (small input), with its change if asked:
    the change's ``backbone`` entries update the backbone, its other
    entries (neck, head) replace the model's."""
    from mmcatkd.apis.pair_check import classifier_cfg
    from mmcatkd.utils import load_config
    cfg = load_config('mmpretrain::' + family.config)
    model = classifier_cfg(cfg)
    model['backbone'].update(family.small)
    model['backbone'].pop('init_cfg', None)
    model.pop('init_cfg', None)
    model.pop('train_cfg', None)  # batch augments need no check
    if changed:
        for key, value in copy.deepcopy(family.change).items():
            if key == 'backbone':
                model['backbone'].update(value)
            else:
                model[key] = value
    return model


def check_family(family: Family) -> Dict:
    """The table row of ``family``: status, CAM size, reason."""
    from mmcatkd.apis.pair_check import inspect_cams
    row = dict(family=family.name, config=family.config)
    try:
        report = inspect_cams(
            build(family_model_cfg(family, False)), family.input_size)
    except Exception as error:  # a family that does not build at 64 px
        row.update(
            status='not checked',
            detail=f'{type(error).__name__}: {error}'.split('\n')[0])
        return row
    row['head'] = f'{report.head}'
    if report.exact:
        row.update(status='yes, as is', detail=_size(report))
        return row
    row['reason'] = report.reason
    if family.change is None:
        row.update(status='no', detail=report.reason)
        return row
    changed = inspect_cams(
        build(family_model_cfg(family, True)), family.input_size)
    if changed.exact:
        row.update(
            status='yes, after a config change',
            detail=f'{family.change_note}; {_size(changed)}. As is: '
            f'{report.reason}')
    else:
        row.update(
            status='no',
            detail=f'{report.reason}; with the change: '
            f'{changed.reason}')
    return row


def _size(report) -> str:
    return (f'CAM {report.cam_size[0]}x{report.cam_size[1]} at '
            f'{report.input_size} px, max logit error {report.difference:.0e}')


def markdown(rows: List[Dict]) -> str:
    lines = [
        '# CAT-KD compatibility of MMPretrain\'s model families',
        '',
        '<!-- generated by tools/cam_compat_table.py: do not edit by '
        'hand -->',
        '',
        'One model per family (the config named, random weights, '
        f'{INPUT_SIZE}x{INPUT_SIZE} input unless stated, float64): "yes" '
        'means its logits equal GAP(CAM) + b within 1e-5 (CAT-KD Eq. '
        '2-3), so its CAMs are exact and it can be a CAT-KD teacher or student '  # noqa: E501
        '(`CAMRecorder` takes them from the backbone\'s last map and the '
        "head's `fc`). Regenerate with `python tools/cam_compat_table.py`; "
        '`tests/tools/test_cam_compat_table.py` rechecks a sample of rows. '
        'Check your own pair with `tools/check_pair.py` '
        '(docs/your_own_pair.md).',
        '',
        '| family | config (mmpretrain::) | CAT-KD teacher / student | '
        'details |',
        '|---|---|---|---|'
    ]
    mmpretrain_rows = [
        row for row in rows if row.get('config', '').endswith('.py')
    ]
    timm_rows = [row for row in rows if row not in mmpretrain_rows]
    for row in mmpretrain_rows:
        lines.append(_row(row))
    if timm_rows:
        lines += [
            '', "## timm's model families", '',
            'A timm model is a teacher or student through '
            "`TimmImageClassifier` (`cfg_path='timm://ARCH.TAG'`, "
            "timm's pretrained weights): its backbone is timm's "
            "`forward_features`, its head timm's classifier. Checked as "
            'above (random weights, `tools/check_pair.py timm://ARCH ...` '
            'checks one); "no" names what in the head is not average '
            'pooling + one linear layer.', '',
            '| family | timm model | CAT-KD teacher / student | details |',
            '|---|---|---|---|'
        ]
        lines += [_row(row) for row in timm_rows]
    return '\n'.join(lines) + '\n'


def _row(row: Dict) -> str:
    return (f'| {row["family"]} | `{row["config"]}` | {row["status"]} | '
            f'{row["detail"]} |')


def parse_rows(text: str) -> Dict[str, Dict]:
    """family -> {status, detail} of a table written by :func:`markdown`."""
    rows = {}
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip('|').split(' | ')]
        if len(cells) == 4 and cells[1].startswith('`'):
            rows[cells[0]] = dict(status=cells[2], detail=cells[3])
    return rows


@entry_point
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--only', nargs='+', help='families to check')
    parser.add_argument(
        '--print',
        action='store_true',
        help='print the table instead of writing the doc')
    args = parser.parse_args(argv)
    import mmcatkd  # noqa: F401
    families = [
        f for f in FAMILIES + TIMM_FAMILIES
        if not args.only or f.name in args.only
    ]
    rows = []
    for family in families:
        started = time.perf_counter()
        check = (
            check_timm_family
            if isinstance(family, TimmFamily) else check_family)
        rows.append(check(family))
        print(
            f'{family.name}: {rows[-1]["status"]} '
            f'({time.perf_counter() - started:.1f} s)',
            file=sys.stderr)
    text = markdown(rows)
    if args.print or args.only:
        print(text)
    else:
        atomic_write(text, DOC)
        print(f'wrote {DOC}', file=sys.stderr)
