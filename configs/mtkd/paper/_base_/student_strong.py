# The strongly augmented student (S_s): student_weak.py on the strong views,
# for training and for tools/test.py's calibration on the training split.
_base_ = ['./student_weak.py']

train_dataloader = dict(dataset=dict(pipeline={{_base_.strong_pipeline}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.strong_pipeline}}))
val_cfg = dict(
    aug_dataloader=dict(dataset=dict(pipeline={{_base_.strong_pipeline}})))
