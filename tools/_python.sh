# Sourced by the shell launchers: the interpreter they run is $PYTHON if set,
# else the project's environment (.venv/bin/python, made by `make install`)
# if there is one, else `python` from PATH.
if [ -z "${PYTHON:-}" ]; then
    _venv_python="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.venv/bin/python"
    if [ -x "$_venv_python" ]; then
        PYTHON="$_venv_python"
    else
        PYTHON=python
    fi
fi
