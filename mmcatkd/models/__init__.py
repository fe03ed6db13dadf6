from .algorithms import *  # noqa: F401,F403
from .backbones import *  # noqa: F401,F403
from .connectors import *  # noqa: F401,F403
from .distillers import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recorders import *  # noqa: F401,F403
from .cams import (binarize_cams, check_cam_resolution,  # noqa: F401
                   class_activation_maps, classifier_of, head_cams,
                   logits_and_cams)
