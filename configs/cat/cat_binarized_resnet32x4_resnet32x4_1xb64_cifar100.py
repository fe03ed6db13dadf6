# CAT alone with binarised teacher CAMs (paper Sec. 4.2): each teacher map is
# 1 where it exceeds the mean of its absolute values and 0 elsewhere, so only
# where the teacher looks is transferred. No cross-entropy, labels never read.
_base_ = ['./cat_resnet32x4_resnet32x4_1xb64_cifar100.py']

model = dict(distiller=dict(cat_loss=dict(loss_weight=300, binarize=True)))
