from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .cams import (class_activation_maps, classifier_of, head_cams,
                   logits_and_cams)
from .classifiers import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .losses.cat_loss import binarize_cams, check_cam_resolution
from .recorders import *  # noqa: F401,F403
from .weight_init import *  # noqa: F401,F403
