# DeiT's schedule (Touvron et al., ICML 2021), as [CLS]-KD trains with it:
# AdamW, lr 5e-4 for a total batch of 512, weight decay 0.05 (none on norms,
# biases, the class token and the position embedding), 5 linear warm-up
# epochs from 1e-6, then cosine to 1e-5 at epoch 300; no gradient clipping.
# timm steps the lr once per epoch and stretches the cosine over 310 epochs
# (10 cool-down epochs that DeiT never trains); here it is stepped per
# iteration and ends at epoch 300. With another total batch,
# `tools/train.py --auto-scale-lr` scales the lr linearly.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW',
        lr=5e-4,
        weight_decay=0.05,
        eps=1e-8,
        betas=(0.9, 0.999)),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        flat_decay_mult=0.0,
        custom_keys={
            '.cls_token': dict(decay_mult=0.0),
            '.pos_embed': dict(decay_mult=0.0)
        }))

param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / 5e-4,
        by_epoch=True,
        end=5,
        convert_to_iter_based=True),
    dict(
        type='CosineAnnealingLR',
        eta_min=1e-5,
        by_epoch=True,
        begin=5,
        end=300,
        convert_to_iter_based=True),
]

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=512)
