"""The parts of ``tools/benchmark.py``: what a CAT-KD step costs.

- :mod:`.variants` builds the things to time (student alone, teacher
  forward, MMRazor's logit KD, CAT-KD, CAT-KD binarised, CAT-KD's own CAM +
  loss work) around one fixed in-memory batch;
- :mod:`.measure` times them interleaved, measures their peak memory and
  counts their work (FLOPs, aten ops, bytes written);
- :mod:`.data_loading` measures decode + augmentation per loader worker;
- :mod:`.runs` runs a named or given pair (or the loader measurement) and
  :mod:`.report` turns the times into ratios, targets and tables.

Not imported by ``import mmcatkd``: only the tool and its tests need it.
"""
