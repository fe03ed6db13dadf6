"""The CAT-KD compatibility of model families: one small model of each
(MMPretrain's smallest ImageNet config, or a timm model; random weights, a
small input) checked as ``tools/check_pair.py`` checks a pair, whether its
logits equal GAP(CAM) + b (float64, 1e-5) as it stands or after a known
config change. ``tools/cam_compat_table.py`` writes the table to
docs/cam_compatibility.md."""
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional

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
