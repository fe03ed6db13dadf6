# student_weak_lt100.py on the strong views (long-tailed CIFAR-100, S_s).
_base_ = ['./student_weak_lt100.py']

long_tailed_train = dict(dataset=dict(pipeline={{_base_.strong_pipeline}}))
train_dataloader = dict(
    dataset=dict(dataset=dict(pipeline={{_base_.strong_pipeline}})))
test_dataloader = dict(
    dataset=dict(dataset=dict(pipeline={{_base_.strong_pipeline}})))
val_cfg = dict(
    aug_dataloader=dict(dataset=dict(pipeline={{_base_.strong_pipeline}})))
