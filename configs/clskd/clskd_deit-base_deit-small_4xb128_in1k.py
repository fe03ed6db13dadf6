# [CLS]-KD: DeiT-Base teaches DeiT-Small on ImageNet-1k (paper: 81.49 % top-1),
# the recipe of clskd_deit-base_deit-tiny_4xb128_in1k.py. See docs/clskd.md.
_base_ = ['./clskd_deit-base_deit-tiny_4xb128_in1k.py']

model = dict(
    architecture=dict(cfg_path='mmpretrain::deit/deit-small_4xb256_in1k.py'),
    distiller=dict(connectors=dict(cls_proj=dict(in_channels=384))))
