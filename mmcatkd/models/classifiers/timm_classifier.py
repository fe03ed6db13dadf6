"""A timm classifier as an MMPretrain ``ImageClassifier`` whose CAMs are
reachable: backbone = timm's ``forward_features`` (the last map), head = its
classifier ``fc``.

CAT-KD (Guo et al., CVPR 2023, https://arxiv.org/abs/2304.12777, Eq. 2)
takes ``CAM_k = sum_c w_kc f_c`` from the classifier's weights on the last
feature map. MMPretrain's ``TIMMBackbone`` drops timm's classifier and its
``TimmClassifier`` is one opaque module, so neither gives the map and the
classifier apart. :class:`TimmImageClassifier` builds the timm model with
timm's own pretrained mechanism (its cache, the hub when online,
``pretrained_cfg_overlay=dict(file=...)`` or ``checkpoint_path``, all read
with timm's weights-only loaders), then moves the classifier ``nn.Linear``
out of it into the head; the logits stay timm's own
(``head.fc(model.forward_head(map, pre_logits=True))``), and
:mod:`mmcatkd.models.cams` finds ``backbone`` and ``head.fc`` as for any
MMPretrain GAP + linear model. A head that is not average pooling + one
linear layer (a head norm, an MLP, a class token, attention pooling) is named
by :func:`timm_cam_obstacle`, and the CAM path refuses it with that reason.

timm is an optional extra (``pip install mmcatkd[timm]``), imported only
when a timm model is built.
"""
import difflib
from typing import Any, Callable, Dict, Optional, Tuple

import torch
from mmpretrain.models import ClsHead, ImageClassifier
from mmpretrain.registry import MODELS
from torch import nn

from ...utils.errors import ConfigError
from ...utils.mmengine_private import mark_initialised

TIMM_SCHEME = 'timm://'
AVERAGE_POOLS = ('avg', 'fast', 'fastavg')


def import_timm():
    """timm, or one sentence saying how to install it."""
    try:
        import timm
    except ImportError:
        raise ConfigError(
            'a timm model needs timm: pip install "mmcatkd[timm]" (the '
            'versions requirements/timm.txt pins).') from None
    return timm


def check_timm_name(name: str) -> None:
    """Fail early on a timm model name (``arch`` or ``arch.tag``) timm does
    not know, naming close ones."""
    timm = import_timm()
    arch, _, tag = name.partition('.')
    if not timm.is_model(arch):
        close = difflib.get_close_matches(arch, timm.list_models(), n=5)
        raise ConfigError(f'timm has no model {arch!r}: use one of '
                          f'{close or "the names timm.list_models() gives"}.')
    if tag and name not in timm.list_pretrained(f'{arch}.*'):
        raise ConfigError(
            f'timm has no pretrained weights {name!r}: use one of '
            f'{timm.list_pretrained(f"{arch}.*")[:8]}.')


def create_timm_model(model_name: str, pretrained: bool,
                      **kwargs) -> nn.Module:
    """``timm.create_model`` with timm's own weight loading; offline without
    the weights in the cache it ends in one sentence naming the model."""
    timm = import_timm()
    check_timm_name(model_name)
    from huggingface_hub.errors import LocalEntryNotFoundError
    try:
        return timm.create_model(model_name, pretrained=pretrained, **kwargs)
    except LocalEntryNotFoundError:
        raise ConfigError(
            f"timm could not fetch the pretrained weights of {model_name} "
            '(offline and not in the Hugging Face cache): download them once '
            'online, or give a local file with pretrained_cfg_overlay='
            'dict(file=PATH) or checkpoint_path=PATH.') from None


def dropped_classifier(model: nn.Module, model_name: str) -> Optional[str]:
    """Where timm loaded pretrained weights into ``model`` without their
    classifier, leaving it randomly initialised: what happened and how to
    keep the trained one (a clause); else None.

    timm's ``load_pretrained`` discards the weights' classifier whenever
    the model's ``num_classes`` is not the ``num_classes`` of its
    ``pretrained_cfg`` (the tag's, or ``pretrained_cfg_overlay``'s), also
    for a local file whose classifier has the model's class count when the
    overlay does not say so. Call it on a model built with
    ``pretrained=True`` (``checkpoint_path`` loads strictly).
    """
    pretrained_cfg = getattr(model, 'pretrained_cfg', None) or {}
    weights_classes = pretrained_cfg.get('num_classes')
    num_classes = getattr(model, 'num_classes', None)
    if (not pretrained_cfg.get('classifier') or weights_classes is None
            or weights_classes == num_classes):
        return None
    fixes = ([
        f"num_classes={weights_classes} (as the weights' pretrained_cfg says)"
    ] if weights_classes else [])
    if pretrained_cfg.get('file'):
        fixes.append(f"pretrained_cfg_overlay=dict(file="
                     f"'{pretrained_cfg['file']}', num_classes={num_classes})"
                     f' if that file\'s classifier has {num_classes} classes')
    fixes.append(f'a checkpoint of it trained on your {num_classes} classes '
                 'as teacher_ckpt')
    why = (f'it dropped the {weights_classes}-class classifier of the '
           f'weights for num_classes={num_classes}'
           if weights_classes else 'the weights have no classifier')
    return (f'timm gave {model_name} a random classifier ({why}); give ' +
            ', or '.join(fixes))


def _module(model: nn.Module, path: str) -> Optional[nn.Module]:
    for name in path.split('.'):
        model = getattr(model, name, None)
    return model if isinstance(model, nn.Module) else None


def _is_identity(module: Optional[nn.Module]) -> bool:
    return module is None or isinstance(module, nn.Identity)


def _pool_type(model: nn.Module) -> str:
    """timm's global pool: a string (ViTs) or a ``SelectAdaptivePool2d``,
    on the model or in its ``head`` (RegNet, ConvNeXt, Swin)."""
    for owner in (model, getattr(model, 'head', None)):
        pool = getattr(owner, 'global_pool', None)
        if isinstance(pool, str):
            return pool
        if pool is not None and hasattr(pool, 'pool_type'):
            return pool.pool_type
    return 'avg'


def timm_cam_obstacle(model: nn.Module) -> Optional[str]:
    """Why a timm model's logits are not average pooling + one linear
    layer of its last map, or None where nothing in its head says so
    (``tools/check_pair.py`` then measures it)."""
    classifier = model.get_classifier()
    if isinstance(classifier, (tuple, list)):
        return ('a distillation head averages two classifiers (in DeiT, of '
                'the class and the distillation token), not one nn.Linear')
    if not isinstance(classifier, nn.Linear):
        return (f'its classifier is {type(classifier).__name__}, not one '
                'nn.Linear (num_classes=0 builds no classifier)')
    pool = _pool_type(model)
    if pool == 'token':
        return ('a class-token head classifies the class token, not pooled '
                'patch features')
    if pool == 'map':
        return ('attention pooling weighs the positions of each image by '
                'learned attention, not by the average')
    if pool not in AVERAGE_POOLS:
        return (f"its global pool is {pool!r}, not average pooling")
    for path in ('head.norm', 'fc_norm', 'head_norm', 'norm_head'):
        if not _is_identity(_module(model, path)):
            return (f'a head norm ({path}, after pooling) is not linear in '
                    'the pooled features')
    hidden = getattr(model, 'head_hidden_size', None)
    if (hidden not in (None, getattr(model, 'num_features', hidden))
            or not _is_identity(_module(model, 'head.pre_logits'))):
        return ('an MLP head (layers with activations between pooling and '
                'the classifier) is not one linear map after pooling')
    return None


def _detach_classifier(model: nn.Module) -> nn.Linear:
    """Take timm's classifier ``nn.Linear`` out of ``model`` (an
    ``nn.Identity`` in its place) and return it."""
    classifier = model.get_classifier()
    for name, module in model.named_modules():
        if module is classifier:
            parent, _, leaf = name.rpartition('.')
            setattr(
                _module(model, parent) if parent else model, leaf,
                nn.Identity())
            return classifier
    raise ConfigError(f'{type(model).__name__}.get_classifier() is no '
                      'submodule of the model.')


class TimmFeatureMap(nn.Module):
    """timm's ``forward_features``: the last map, (N, C, H, W) (channels
    moved first where timm gives (N, H, W, C)); tokens (N, L, C) for ViTs.

    Args:
        model (nn.Module): the timm model, its classifier taken out.
        model_name (str): its timm name, for reports.
    """

    def __init__(self, model: nn.Module, model_name: str) -> None:
        super().__init__()
        self.model = model
        self.model_name = model_name
        self.channels_last = getattr(model, 'output_fmt', 'NCHW') == 'NHWC'

    def forward(self, inputs: torch.Tensor) -> Tuple[torch.Tensor]:
        feat = self.model.forward_features(inputs)
        if self.channels_last:
            feat = feat.permute(0, 3, 1, 2)
        return (feat, )

    def pre_logits(self, feat: torch.Tensor) -> torch.Tensor:
        """What timm's head makes of the map before its classifier:
        (N, C) pooled features."""
        if self.channels_last:
            feat = feat.permute(0, 2, 3, 1)
        return self.model.forward_head(feat, pre_logits=True)

    def logits(self, feat: torch.Tensor) -> torch.Tensor:
        """timm's whole head on the map (a model whose classifier stayed
        in it)."""
        if self.channels_last:
            feat = feat.permute(0, 2, 3, 1)
        return self.model.forward_head(feat)


class TimmClsHead(ClsHead):
    """timm's head as an MMPretrain ``ClsHead``: ``fc`` is timm's classifier
    (K, C), applied to timm's pooled features; ``cam_obstacle`` says why
    its CAMs are not exact (None: GAP + ``fc``).

    Args:
        fc (nn.Linear | None): the classifier; None keeps timm's whole head
            (a classifier that is not one ``nn.Linear``).
        pre_logits (callable): map -> pooled features (N, C), or the logits
            where ``fc`` is None (timm's ``forward_head``).
        cam_obstacle (str, optional): :func:`timm_cam_obstacle`.
        **kwargs: ``ClsHead``'s (``loss``, ``topk``, ``cal_acc``).
    """

    def __init__(self,
                 fc: Optional[nn.Linear],
                 pre_logits: Callable[[torch.Tensor], torch.Tensor],
                 cam_obstacle: Optional[str] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.fc = fc
        self._pre_logits = pre_logits
        self.cam_obstacle = cam_obstacle
        self.num_classes = (fc.out_features if fc is not None else None)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self._pre_logits(feats[-1])

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        pooled = self.pre_logits(feats)
        return pooled if self.fc is None else self.fc(pooled)


@MODELS.register_module()
class TimmImageClassifier(ImageClassifier):
    """Any timm ImageNet classifier as an MMPretrain ``ImageClassifier``
    (teacher or student of a config), its CAMs taken as for MMPretrain's
    GAP + ``LinearClsHead`` models.

    ``backbone`` is :class:`TimmFeatureMap` (timm's ``forward_features``)
    and ``head`` is :class:`TimmClsHead` (timm's classifier as ``fc``); the
    logits are timm's. State dict keys: ``backbone.model.*`` (timm's
    keys, the classifier's taken out) and ``head.fc.*``. The weights are
    timm's from the first build on: ``init_weights`` leaves them alone.
    ``random_classifier`` says (:func:`dropped_classifier`) where timm's
    pretrained weights came without their classifier, for another class
    count: a student fine-tunes that one, a teacher refuses it.

    Args:
        model_name (str): timm's name, e.g. ``'resnet50.a1_in1k'`` or
            ``'regnety_016.tv2_in1k'`` (``arch.pretrained_tag``).
        pretrained (bool): load timm's pretrained weights for it (from the
            Hugging Face cache, the hub when online, or the file of
            ``pretrained_cfg_overlay=dict(file=...)``). Defaults to False.
        loss, topk, cal_acc: of the head (``ClsHead``).
        train_cfg, data_preprocessor, init_cfg: ``ImageClassifier``'s.
        **timm_kwargs: ``timm.create_model``'s other arguments
            (``num_classes``, ``checkpoint_path``, ``pretrained_cfg_overlay``,
            ``drop_path_rate``, ...).
    """

    def __init__(self,
                 model_name: str,
                 pretrained: bool = False,
                 loss: Dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: Tuple[int, ...] = (1, ),
                 cal_acc: bool = False,
                 train_cfg: Optional[Dict] = None,
                 data_preprocessor: Optional[Dict] = None,
                 init_cfg: Optional[Dict] = None,
                 **timm_kwargs: Any) -> None:
        model = create_timm_model(model_name, pretrained, **timm_kwargs)
        random_classifier = (
            dropped_classifier(model, model_name) if pretrained else None)
        obstacle = timm_cam_obstacle(model)
        fc = (
            _detach_classifier(model)
            if isinstance(model.get_classifier(), nn.Linear) else None)
        backbone = TimmFeatureMap(model, model_name)
        # bound methods: a deep copy of the classifier calls its own copy
        pre_logits = (
            backbone.pre_logits if fc is not None else backbone.logits)
        head = TimmClsHead(
            fc, pre_logits, obstacle, loss=loss, topk=topk, cal_acc=cal_acc)
        super().__init__(
            backbone=backbone,
            head=head,
            train_cfg=train_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.model_name = model_name
        self.pretrained = pretrained or bool(
            timm_kwargs.get('checkpoint_path'))
        self.random_classifier = random_classifier

    def init_weights(self) -> None:
        """timm initialises (and loads) the weights when it builds the
        model; nothing is drawn again."""
        mark_initialised(self)


def timm_model_cfg(name: str, **overrides: Any) -> Dict:
    """The model config of ``timm://NAME`` (``teacher=dict(cfg_path=
    'timm://regnety_016.tv2_in1k')``): a :class:`TimmImageClassifier` with
    timm's pretrained weights (``pretrained=False`` in ``overrides`` for
    random ones); the other overrides are its arguments."""
    model_name = name[len(TIMM_SCHEME):] if name.startswith(
        TIMM_SCHEME) else name
    if not model_name:
        raise ConfigError(f'{name!r} names no timm model: write '
                          "'timm://ARCH[.TAG]', e.g. 'timm://resnet50."
                          "a1_in1k'.")
    return dict(
        dict(
            _scope_='mmpretrain',
            type='TimmImageClassifier',
            model_name=model_name,
            pretrained=True), **overrides)
