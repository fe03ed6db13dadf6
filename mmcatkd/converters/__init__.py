"""Checkpoint converters (not imported by ``import mmcatkd``)."""
from .teacher import (SOURCES, UnmappedKeysError, build_model,
                      check_registration_order, convert_teacher,
                      load_source_state_dict, map_state_dict)

__all__ = [
    'SOURCES', 'UnmappedKeysError', 'build_model', 'check_registration_order',
    'convert_teacher', 'load_source_state_dict', 'map_state_dict'
]
