# Digits reference: the resnet20 student alone (cross-entropy, weak
# augmentation), the schedule and seed of the distilled students.
_base_ = ['./_base_/digits.py']

model = {{_base_.student_model}}
work_dir = './work_dirs/multiteacher_digits/baseline'
