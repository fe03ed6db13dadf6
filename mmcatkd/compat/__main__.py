"""``python -m mmcatkd.compat``: list mmcatkd's compatibility workarounds,
whether each is active in this environment, and why it exists."""
from mmcatkd import compat

print(compat.report())
