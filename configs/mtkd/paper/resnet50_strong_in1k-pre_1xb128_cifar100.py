# resnet50_weak_in1k-pre_1xb128_cifar100.py trained on the strong views
# (--train_add_strong).
# tools/test.py measures calibration on the weak views of the training split,
# as the authors' ECE script does for every teacher.
_base_ = ['./resnet50_weak_in1k-pre_1xb128_cifar100.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.strong_pipeline}}))
