# DeiT's schedule (Touvron et al., ICML 2021), as [CLS]-KD trains with it:
# AdamW, lr 5e-4 for a total batch of 512, weight decay 0.05 (none on norms,
# biases, the class token and the position embedding), no gradient clipping;
# timm's cosine from 5e-4 at epoch 0 to 1e-5 at epoch 300 (t_initial=300),
# whose first 5 values a linear warm-up from 1e-6 overrides, stepped once per
# epoch after the epoch as DeiT's loop steps it (epoch e trains at the
# schedule's value for e - 1). With another total batch,
# `tools/train.py --auto-scale-lr` scales the lr linearly.
optim_wrapper = dict(
    optimizer=dict(
        type='AdamW', lr=5e-4, weight_decay=0.05, eps=1e-8,
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
        type='TimmCosineLR',
        t_initial=300,
        lr_min=1e-5,
        warmup_t=5,
        warmup_lr_init=1e-6,
        lag_one_epoch=True),
]

train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()

auto_scale_lr = dict(base_batch_size=512)
