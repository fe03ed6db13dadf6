"""Hold the experiment configs against the recipe table configs/recipes.yml.

    python tools/recipes.py check [CONFIG ...]   # every config by default
    python tools/recipes.py render               # writes docs/recipes.md

`check` loads each config through MMEngine (a student or teacher given by
``cfg_path`` is read from its model file with the overrides applied, as the
algorithm builds it) and prints every field whose value differs from the
table. `render` writes the table as Markdown. The schema is described at the
top of configs/recipes.yml.
"""
from mmcatkd.cli.recipes import main

if __name__ == '__main__':
    main()
