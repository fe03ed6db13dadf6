"""The command lines of ``tools/``: one module per tool, named as the
tool, each with the tool's argument parser and its ``main(argv=None)``.

``tools/<name>.py`` is the script users run; it imports ``main`` from
here. The work those commands do lives in the layers below (``apis``,
``evaluation``, ``benchmark``, ``visualization``, ``engine``,
``cam_cache``); this is the top layer, and nothing else in mmcatkd
imports it.
"""
