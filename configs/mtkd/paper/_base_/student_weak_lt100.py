# student_weak.py on long-tailed CIFAR-100 (imbalance 100: 500 images of
# class 0 down to 5 of class 99, 10,847 in all; the study's CIFAR100_imb100),
# for training and for tools/test.py's calibration on the training split;
# validation stays on the balanced test split.
_base_ = ['./student_weak.py']

long_tailed_train = dict(
    type='LongTailedDataset',
    imbalance_factor=100,
    # a seeded draw of the authors' per-class counts; their own list
    # (zisci2/RethinkKD data_txt/cifar100/CIFAR100_train_imb100.txt, not
    # shipped: their repository has no licence) is
    # --cfg-options train_dataloader.dataset.subset_file=PATH
    #     test_dataloader.dataset.subset_file=PATH
    subset_file=None,
    dataset=dict(
        type='CIFAR100',
        data_root='data/cifar100',
        split='train',
        download=False,
        pipeline={{_base_.weak_pipeline}}))
train_dataloader = dict(dataset=dict(_delete_=True, **long_tailed_train))
test_dataloader = dict(dataset=dict(_delete_=True, **long_tailed_train))
# train-side fidelity from the first lr drop of the 175-epoch schedule
custom_hooks = [dict(type='TrainFidelityHook', start_epoch=159)]
