# The probe data set of tools/linear_probe.py (CAT-KD Table 9's protocol on
# the demo data): digits 5-9 of scikit-learn's digits, labels 0-4, the demo's
# pipelines and splits. A backbone trained on other digits is frozen and a
# new 5-way linear head is trained here.
_base_ = ['../../_base_/datasets/digits.py']
custom_imports = dict(imports=['mmcatkd'], allow_failed_imports=False)
default_scope = 'mmpretrain'

probe_classes = ['5', '6', '7', '8', '9']
train_dataloader = dict(
    batch_size=64,
    dataset=dict(classes=probe_classes),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(dataset=dict(classes=probe_classes))
test_dataloader = val_dataloader
