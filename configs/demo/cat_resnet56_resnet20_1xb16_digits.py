# CAT alone, the paper's central finding (Guo et al., CVPR 2023): the
# student never sees a label; the teacher's class activation maps on the same
# 100 images are its only training signal. Everything else (beta included)
# as catkd_resnet56_resnet20_1xb16_digits.py.
_base_ = ['./catkd_resnet56_resnet20_1xb16_digits.py']

model = dict(calculate_student_loss=False)
